"""The people of SOP case 4 and a case with a pre-paid provider, its charges confirmed."""

from __future__ import annotations

import pytest

from medworks.accounts.models import RoleCode
from medworks.network.models import BillingArrangement
from tests import factories
from tests.billing.invoicing import make_insurer, ready_case


@pytest.fixture
def chief(db):
    return factories.make_user(
        roles=[RoleCode.CHIEF_OF_STAFF], username="chief", email="chief@medworks.example"
    )


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


@pytest.fixture
def prepaid_clinic(db):
    """An individual clinic that is pre-paid by card or EFT (no direct billing)."""
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[
            BillingArrangement.CREDIT_CARD,
            BillingArrangement.EFT,
            BillingArrangement.INSURER_CARD,
        ],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return location


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist Travel")


@pytest.fixture
def prepaid_case(insurer, prepaid_clinic, booking_agent):
    """Seen at the pre-paid clinic: clinic cost 120.00, MedWorks cost 60.00, HST 13%."""
    return ready_case(insurer=insurer, location=prepaid_clinic, agent=booking_agent)
