"""Reads of accounts that pages and commands share."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from medworks.core.errors import NotFound

from .models import ApiKey, Organisation, OrganisationKind


def insurers_with_api_keys() -> QuerySet[Organisation]:
    """Every insurer with its keys (newest first) and who made them: two queries in all."""
    keys = ApiKey.objects.select_related("created_by").order_by("-created_at")
    return (
        Organisation.objects.filter(kind=OrganisationKind.INSURER)
        .order_by("name")
        .prefetch_related(Prefetch("api_keys", queryset=keys))
    )


def api_key_by_prefix(*, prefix: str) -> ApiKey:
    """The one key shown as `prefix` (for the command line). NotFound or ambiguous: refused."""
    prefix = (prefix or "").strip()
    keys = list(ApiKey.objects.select_related("organisation").filter(prefix=prefix)[:2])
    if not keys:
        raise NotFound("api_key_not_found", f"No API key {prefix!r}.")
    if len(keys) > 1:
        raise NotFound(
            "api_key_ambiguous", f"Several keys start with {prefix!r}: revoke from the web page."
        )
    return keys[0]


def service_area_minutes_of(insurer: Organisation) -> int:
    """The insurer's designated service area in minutes by road, or the desk's default: no
    affiliate this near escalates its case to management (SOP)."""
    from django.conf import settings

    return insurer.service_area_minutes or settings.MEDWORKS_SERVICE_AREA_MINUTES


def management_users():
    """The people a case is escalated to (SOP: clinic manager, sales manager, director of
    operations, senior manager), active, in their active organisation."""
    from .models import User
    from .permissions import GRANTS, Capability

    return (
        User.objects.filter(
            is_active=True,
            organisation__is_active=True,
            organisation__kind=OrganisationKind.OPERATOR,
            roles__code__in=GRANTS[Capability.ESCALATION_HANDLE],
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def users_with(capability):
    """The active operator users whose roles hold `capability` (who to tell that something
    waits for them: the Chief of Staff, the CEO)."""
    from .models import User
    from .permissions import GRANTS

    return (
        User.objects.filter(
            is_active=True,
            organisation__is_active=True,
            organisation__kind=OrganisationKind.OPERATOR,
            roles__code__in=GRANTS[capability],
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
