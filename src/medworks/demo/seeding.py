"""The demo: a made-up network at real postal codes and one login for every role.

Only for `make demo` and screenshots; refuses to run in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
from medworks.core.errors import DomainError
from medworks.network.importing import ImportReport, directory_import
from medworks.network.models import AffiliatePartner

DEMO_SPREADSHEET = Path(__file__).resolve().parent / "data" / "national-affiliate-partners.xlsx"
DEMO_PASSWORD = "medworks-demo"  # printed on purpose: demo logins only
DEMO_INSURER = "Maple Assist Insurance"
DEMO_CLINIC_PARTNER = "CanCare Medical Network"

# username, display name, role, organisation kind
DEMO_USERS = [
    ("agent", "Alex Agent", RoleCode.BOOKING_AGENT, OrganisationKind.OPERATOR),
    ("coordinator", "Casey Coordinator", RoleCode.BOOKING_COORDINATOR, OrganisationKind.OPERATOR),
    ("clinicmanager", "Morgan Clinic-Manager", RoleCode.CLINIC_MANAGER, OrganisationKind.OPERATOR),
    ("sales", "Sam Sales", RoleCode.SALES_MANAGER, OrganisationKind.OPERATOR),
    ("director", "Dana Director", RoleCode.DIRECTOR_OF_OPERATIONS, OrganisationKind.OPERATOR),
    ("senior", "Sasha Senior", RoleCode.SENIOR_MANAGER, OrganisationKind.OPERATOR),
    ("chief", "Chris Chief-of-Staff", RoleCode.CHIEF_OF_STAFF, OrganisationKind.OPERATOR),
    ("ceo", "Jordan CEO", RoleCode.CEO, OrganisationKind.OPERATOR),
    ("finance", "Joy Finance", RoleCode.FINANCE, OrganisationKind.OPERATOR),
    ("insurer", "Isabel Insurer", RoleCode.INSURER_USER, OrganisationKind.INSURER),
    ("clinic", "Claude Clinic", RoleCode.CLINIC_USER, OrganisationKind.AFFILIATE),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    organisation: str


def demo_seed(*, spreadsheet: Path = DEMO_SPREADSHEET) -> tuple[ImportReport, list[DemoLogin]]:
    """Import the demo network and create the demo users. Running it again changes nothing."""
    if settings.PRODUCTION:
        raise DomainError("demo_in_production", "The demo data is never loaded in production.")
    with spreadsheet.open("rb") as fh:
        report = directory_import(file=fh, filename=spreadsheet.name)
    with transaction.atomic():
        operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR, name="MedWorks")
        insurer, _ = Organisation.objects.get_or_create(
            name=DEMO_INSURER, defaults={"kind": OrganisationKind.INSURER}
        )
        clinic_org, _ = Organisation.objects.get_or_create(
            name=DEMO_CLINIC_PARTNER, defaults={"kind": OrganisationKind.AFFILIATE}
        )
        AffiliatePartner.objects.filter(name=DEMO_CLINIC_PARTNER, organisation=None).update(
            organisation=clinic_org
        )
        orgs = {
            OrganisationKind.OPERATOR: operator,
            OrganisationKind.INSURER: insurer,
            OrganisationKind.AFFILIATE: clinic_org,
        }
        logins = []
        for username, name, role, kind in DEMO_USERS:
            first, _, last = name.partition(" ")
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@demo.medworks.example",
                    "organisation": orgs[kind],
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.roles.add(Role.objects.get(code=role))
            logins.append(DemoLogin(username, name, RoleCode(role).label, orgs[kind].name))
    return report, logins
