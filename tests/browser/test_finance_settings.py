"""Finance changes an insurer's markup and what it sees, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from medworks.accounts.models import OrganisationKind
from medworks.billing.models import InsurerPricing
from tests import factories

# Transactional: the live server runs in another thread and must see committed data. The
# serialized rollback restores the seeded roles, service catalogue and tax table.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_finance_changes_an_insurers_markup_and_view(page, log_in, finance_user):
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")

    log_in(finance_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pricing and tax").click()
    expect(page.get_by_role("heading", name="Insurers' pricing and tax")).to_be_visible()
    page.get_by_role("link", name="Maple Assist").click()
    expect(page.get_by_role("heading", name="Maple Assist", exact=True)).to_be_visible()
    expect(page.get_by_test_id("markup")).to_have_text("50%")

    page.get_by_label("MedWorks markup (percent of the clinic cost)").fill("40")
    page.get_by_label("What the insurer sees").select_option(label="The total only")
    page.get_by_role("button", name="Save the pricing and tax").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Pricing and tax settings of Maple Assist saved."
    )
    expect(page.get_by_test_id("markup")).to_have_text("40%")
    expect(page.get_by_test_id("insurer-view")).to_have_text("The total only")
    expect(page.get_by_label("MedWorks markup (percent of the clinic cost)")).to_have_value("40.00")
    pricing = InsurerPricing.objects.get(insurer=insurer)
    assert (str(pricing.markup_percent), pricing.insurer_view) == ("40.00", "total_only")
