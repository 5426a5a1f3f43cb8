"""The back-office pages of each insurer's settings: every member of staff reads them; finance
changes the pricing and tax and the per-service prices; the coordinator and management change
the service area; every change is audited, and a refusal is shown on its field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from medworks.accounts.models import Organisation, OrganisationKind, RoleCode
from medworks.billing.models import InsurerFixedPrice, InsurerPricing, InsurerServiceMarkup
from medworks.billing.services import insurer_pricing_update
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act
from tests.test_translations import _english_words

STAFF_READERS = {"booking_agent", "coordinator", "finance_user"}
FINANCE = {"finance_user"}
AREA_EDITORS = {"coordinator"}  # Capability.DIRECTORY_EDIT, among the personas below
PERSONAS = ["booking_agent", "coordinator", "finance_user", "insurer_user", "clinic_user"]

# name: {method: personas allowed}; every route takes the insurer's id but the list.
INSURER_SETTINGS_ROUTES = {
    "insurer_settings_list": {"get": STAFF_READERS},
    "insurer_settings": {"get": STAFF_READERS, "post": FINANCE},
    "insurer_invoicing": {"post": FINANCE},
    "insurer_service_markup": {"post": FINANCE},
    "insurer_fixed_price": {"post": FINANCE},
    "insurer_service_area": {"post": AREA_EDITORS},
}
# What a refused POST would have written if its check were missing.
POST_DATA = {
    "insurer_settings": {
        "pricing-markup_percent": "40",
        "pricing-place_of_supply": "ON",
        "pricing-tax_treatment": "taxable",
        "pricing-taxable_base": "cost_plus_fee",
        "pricing-insurer_view": "total_only",
        "pricing-in_network_needs_confirmation": "on",
    },
    "insurer_invoicing": {
        "invoicing-invoicing": "monthly",
        "invoicing-payment_terms_days": "45",
        "invoicing-billing_email": "ap@maple.example",
        "invoicing-billing_address": "Accounts payable\r\n200 Bay Street\r\nToronto ON M5J 2J5",
    },
    "insurer_service_markup": {"markup-service": "XRAY", "markup-markup_percent": "30"},
    "insurer_fixed_price": {"fixed-service": "XRAY", "fixed-price": "250.00"},
    "insurer_service_area": {"area-minutes": "90"},
}

pytestmark = pytest.mark.django_db


MAPLE = "Maple Assist Insurance"  # not the insurer_user persona's "Maple Assist"


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name=MAPLE)


@pytest.fixture
def clinic_manager(db):
    return factories.make_user(roles=[RoleCode.CLINIC_MANAGER], username="clinicmanager")


def url(name: str, insurer=None) -> str:
    if name == "insurer_settings_list":
        return reverse("web:insurer_settings_list")
    return reverse(f"web:{name}", args=[insurer.pk])


def settings_state(insurer) -> tuple:
    """What a refused request must leave as it was."""
    return (
        list(InsurerPricing.objects.filter(insurer=insurer).values()),
        list(InsurerServiceMarkup.objects.values()),
        list(InsurerFixedPrice.objects.values()),
        Organisation.objects.get(pk=insurer.pk).service_area_minutes,
        AuditEvent.objects.count(),
    )


def pricing_of(insurer) -> InsurerPricing:
    return InsurerPricing.objects.get(insurer=insurer)


def error_of(page: str, field_id: str) -> str:
    """The error paragraph under one field (web/includes/field.html)."""
    return page.split(f'id="{field_id}_error">', 1)[1].split("</p>", 1)[0]


# --- Who may ----------------------------------------------------------------------------------


CASES = [
    pytest.param(name, method, persona, persona in allowed, id=f"{method}-{name}-{persona}")
    for name, methods in INSURER_SETTINGS_ROUTES.items()
    for method, allowed in methods.items()
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "method", "persona", "allowed"), CASES)
def test_each_route_admits_only_the_roles_that_hold_its_capability(
    client, request, insurer, name, method, persona, allowed
):
    client.force_login(request.getfixturevalue(persona))
    before = settings_state(insurer)

    if method == "get":
        response = client.get(url(name, insurer))
    else:
        response = client.post(url(name, insurer), POST_DATA[name])

    if allowed:
        assert response.status_code in (200, 302)
        if method == "post":
            assert settings_state(insurer) != before  # the allowed POST did change something
    else:
        assert response.status_code == 403
        assert settings_state(insurer) == before


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, method) for name, methods in INSURER_SETTINGS_ROUTES.items() for method in methods],
)
def test_an_anonymous_visitor_is_sent_to_log_in(client, insurer, name, method):
    before = settings_state(insurer)
    response = getattr(client, method)(url(name, insurer), POST_DATA.get(name, {}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    assert settings_state(insurer) == before


def test_the_per_service_and_area_routes_take_a_post_only(client, finance_user, insurer):
    client.force_login(finance_user)
    assert client.get(url("insurer_service_markup", insurer)).status_code == 405
    assert client.get(url("insurer_fixed_price", insurer)).status_code == 405
    assert client.get(url("insurer_invoicing", insurer)).status_code == 405


def test_an_organisation_that_is_not_an_insurer_has_no_settings_page(
    client, finance_user, clinic_user
):
    client.force_login(finance_user)
    clinic = clinic_user.organisation
    assert client.get(reverse("web:insurer_settings", args=[clinic.pk])).status_code == 404
    response = client.post(
        reverse("web:insurer_settings", args=[clinic.pk]), POST_DATA["insurer_settings"]
    )
    assert response.status_code == 404
    assert not InsurerPricing.objects.exists()


def test_an_insurers_user_gets_no_access(client, insurer_user):
    client.force_login(insurer_user)
    own = insurer_user.organisation
    for target in (url("insurer_settings_list"), url("insurer_settings", own)):
        response = client.get(target)
        assert response.status_code == 403
        assert "Maple Assist" not in response.content.decode().split("<main", 1)[1]


# --- Finance changes the pricing and tax ------------------------------------------------------


def test_finance_changes_the_markup_the_view_and_the_in_network_wait(client, finance_user, insurer):
    client.force_login(finance_user)

    response = client.post(url("insurer_settings", insurer), POST_DATA["insurer_settings"])

    assert response.status_code == 302
    assert response["Location"] == url("insurer_settings", insurer) + "#pricing"
    pricing = pricing_of(insurer)
    assert pricing.markup_percent == Decimal("40")
    assert pricing.insurer_view == "total_only"
    assert pricing.in_network_needs_confirmation is True
    assert pricing.place_of_supply == "ON"
    event = AuditEvent.objects.get(action="insurer_pricing.updated")
    assert event.actor == finance_user
    assert event.payload["insurer_id"] == insurer.pk
    assert event.payload["changes"] == {
        "markup_percent": ["50", "40"],
        "place_of_supply": ["", "ON"],
        "insurer_view": ["price_tax_total", "total_only"],
        "in_network_needs_confirmation": ["False", "True"],
    }
    page = client.get(response["Location"]).content.decode()
    assert f"Pricing and tax settings of {MAPLE} saved." in page
    assert '<dd data-testid="markup">40%</dd>' in page
    assert '<dd data-testid="insurer-view">The total only</dd>' in page
    assert '<dd data-testid="in-network">Yes</dd>' in page


def test_unticking_the_box_turns_the_wait_off(client, finance_user, insurer):
    insurer_pricing_update(
        actor=act(finance_user), insurer=insurer, data={"in_network_needs_confirmation": True}
    )
    client.force_login(finance_user)
    data = dict(POST_DATA["insurer_settings"])
    del data["pricing-in_network_needs_confirmation"]  # an unticked box is not posted

    assert client.post(url("insurer_settings", insurer), data).status_code == 302
    assert pricing_of(insurer).in_network_needs_confirmation is False


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("abc", "Enter a number."),  # the form cannot read it
        ("-5", "Enter a value such as 50."),  # the service refuses it
        ("12.345", "Enter a value such as 50."),
    ],
)
def test_a_bad_markup_is_shown_on_its_field_and_changes_nothing(
    client, finance_user, insurer, markup, message
):
    client.force_login(finance_user)
    before = settings_state(insurer)

    response = client.post(
        url("insurer_settings", insurer),
        {**POST_DATA["insurer_settings"], "pricing-markup_percent": markup},
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert error_of(page, "id_pricing-markup_percent") == message
    assert f'value="{markup}"' in page  # what was typed is kept
    assert settings_state(insurer) == before


def test_an_unknown_view_is_refused_on_its_field(client, finance_user, insurer):
    client.force_login(finance_user)
    response = client.post(
        url("insurer_settings", insurer),
        {**POST_DATA["insurer_settings"], "pricing-insurer_view": "everything"},
    )
    assert response.status_code == 422
    assert "everything is not one of the available choices" in error_of(
        response.content.decode(), "id_pricing-insurer_view"
    )
    assert not InsurerPricing.objects.exists()


# --- Finance changes the invoicing ------------------------------------------------------------


def test_finance_sets_the_invoicing_beside_the_pricing_and_it_is_audited(
    client, finance_user, insurer
):
    client.force_login(finance_user)
    page = client.get(url("insurer_settings", insurer)).content.decode()
    assert 'data-testid="invoicing-form"' in page
    assert '<dd data-testid="terms">30 days (default)</dd>' in page

    response = client.post(url("insurer_invoicing", insurer), POST_DATA["insurer_invoicing"])

    assert response.status_code == 302
    assert response["Location"] == url("insurer_settings", insurer) + "#invoicing"
    pricing = pricing_of(insurer)
    assert (pricing.invoicing, pricing.payment_terms_days) == ("monthly", 45)
    assert pricing.billing_email == "ap@maple.example"
    assert pricing.billing_address == "Accounts payable\n200 Bay Street\nToronto ON M5J 2J5"
    event = AuditEvent.objects.get(action="insurer_invoicing.updated")
    assert event.actor == finance_user
    assert event.payload["changes"]["invoicing"] == ["per_case", "monthly"]
    page = client.get(response["Location"]).content.decode()
    assert f"Invoicing settings of {MAPLE} saved." in page
    assert '<dd data-testid="invoicing">A monthly statement</dd>' in page
    assert '<dd data-testid="terms">45 days</dd>' in page
    assert '<dd data-testid="billing-email">ap@maple.example</dd>' in page
    assert "Accounts payable<br>200 Bay Street" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("payment_terms_days", "400", "Enter whole days from 0 to 365, or leave it blank."),
        ("payment_terms_days", "-1", "Enter whole days from 0 to 365, or leave it blank."),
        ("payment_terms_days", "soon", "Enter a whole number."),  # the form cannot read it
        (
            "billing_email",
            "accounts at maple",
            "Enter an email address such as ap@insurer.example.",
        ),
        (
            "invoicing",
            "weekly",
            "Select a valid choice. weekly is not one of the available choices.",
        ),
    ],
)
def test_a_bad_invoicing_value_is_shown_on_its_field_and_changes_nothing(
    client, finance_user, insurer, field, value, message
):
    client.force_login(finance_user)
    before = settings_state(insurer)

    response = client.post(
        url("insurer_invoicing", insurer),
        {**POST_DATA["insurer_invoicing"], f"invoicing-{field}": value},
    )

    assert response.status_code == 422
    assert error_of(response.content.decode(), f"id_invoicing-{field}") == message
    assert settings_state(insurer) == before


def test_a_card_number_in_the_billing_address_is_refused_and_not_shown_again(
    client, finance_user, insurer
):
    client.force_login(finance_user)
    before = settings_state(insurer)

    response = client.post(
        url("insurer_invoicing", insurer),
        {**POST_DATA["insurer_invoicing"], "invoicing-billing_address": "4111 1111 1111 1111"},
    )

    assert response.status_code == 422
    assert "4111" not in response.content.decode()
    assert settings_state(insurer) == before


def test_a_booking_agent_reads_the_invoicing_without_the_form(
    client, booking_agent, finance_user, insurer
):
    client.force_login(booking_agent)
    page = client.get(url("insurer_settings", insurer)).content.decode()
    assert '<dd data-testid="invoicing">An invoice per case</dd>' in page
    assert "Only finance changes the invoicing." in page
    assert 'data-testid="invoicing-form"' not in page


# --- Per service ------------------------------------------------------------------------------


def test_finance_sets_and_removes_a_markup_for_one_service(client, finance_user, insurer):
    client.force_login(finance_user)

    set_ = client.post(url("insurer_service_markup", insurer), POST_DATA["insurer_service_markup"])

    assert set_.status_code == 302
    row = InsurerServiceMarkup.objects.get(insurer=insurer)
    assert (row.service.code, row.markup_percent) == ("XRAY", Decimal("30"))
    assert AuditEvent.objects.filter(action="insurer_service_markup.set").count() == 1
    page = client.get(url("insurer_settings", insurer)).content.decode()
    markups = page.split('data-testid="service-markups"', 1)[1].split("</table>", 1)[0]
    assert "<code>XRAY</code>" in markups and "30%" in markups

    removed = client.post(
        url("insurer_service_markup", insurer),
        {"markup-service": "XRAY", "markup-markup_percent": ""},
    )

    assert removed.status_code == 302
    assert not InsurerServiceMarkup.objects.exists()
    assert AuditEvent.objects.filter(action="insurer_service_markup.removed").count() == 1


def test_finance_sets_a_fixed_price_typed_as_people_type_it(client, finance_user, insurer):
    client.force_login(finance_user)

    response = client.post(
        url("insurer_fixed_price", insurer), {"fixed-service": "XRAY", "fixed-price": "1250.50 $"}
    )

    assert response.status_code == 302
    assert InsurerFixedPrice.objects.get(insurer=insurer).price == Decimal("1250.50")
    page = client.get(url("insurer_settings", insurer)).content.decode()
    prices = page.split('data-testid="fixed-prices"', 1)[1].split("</table>", 1)[0]
    assert "$1,250.50" in prices


@pytest.mark.parametrize(
    ("route", "data", "field_id"),
    [
        ("insurer_fixed_price", {"fixed-service": "XRAY", "fixed-price": "abc"}, "id_fixed-price"),
        (
            "insurer_fixed_price",
            {"fixed-service": "XRAY", "fixed-price": "12.345"},
            "id_fixed-price",
        ),
        (
            "insurer_service_markup",
            {"markup-service": "XRAY", "markup-markup_percent": "-1"},
            "id_markup-markup_percent",
        ),
        (
            "insurer_service_markup",
            {"markup-service": "NOPE", "markup-markup_percent": "30"},
            "id_markup-service",
        ),
    ],
)
def test_a_bad_per_service_value_is_shown_on_its_field_and_changes_nothing(
    client, finance_user, insurer, route, data, field_id
):
    client.force_login(finance_user)
    before = settings_state(insurer)

    response = client.post(url(route, insurer), data)

    assert response.status_code == 422
    assert error_of(response.content.decode(), field_id)
    assert settings_state(insurer) == before


# --- The service area -------------------------------------------------------------------------


def test_a_clinic_manager_sets_the_service_area_and_finance_cannot(
    client, clinic_manager, finance_user, insurer
):
    client.force_login(finance_user)
    page = client.get(url("insurer_settings", insurer)).content.decode()
    assert 'data-testid="service-area-form"' not in page
    assert (
        client.post(url("insurer_service_area", insurer), {"area-minutes": "90"}).status_code == 403
    )
    assert Organisation.objects.get(pk=insurer.pk).service_area_minutes is None

    client.force_login(clinic_manager)
    page = client.get(url("insurer_settings", insurer)).content.decode()
    assert 'data-testid="service-area-form"' in page
    assert 'data-testid="pricing-form"' not in page  # management does not price

    response = client.post(url("insurer_service_area", insurer), {"area-minutes": "90"})

    assert response.status_code == 302
    assert Organisation.objects.get(pk=insurer.pk).service_area_minutes == 90
    event = AuditEvent.objects.get(action="organisation.service_area_set")
    assert event.actor == clinic_manager
    page = client.get(response["Location"]).content.decode()
    assert f"Service area of {MAPLE}: 90 minutes." in page
    assert '<p data-testid="service-area">90 minutes' in page


def test_a_blank_service_area_is_the_default_again(client, clinic_manager, insurer, settings):
    settings.MEDWORKS_SERVICE_AREA_MINUTES = 60
    insurer.service_area_minutes = 120
    insurer.save()
    client.force_login(clinic_manager)

    response = client.post(url("insurer_service_area", insurer), {"area-minutes": ""})

    assert response.status_code == 302
    assert Organisation.objects.get(pk=insurer.pk).service_area_minutes is None
    page = client.get(response["Location"]).content.decode()
    assert '<p data-testid="service-area">60 minutes (default)' in page


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("0", "Enter whole minutes from 1 to 600."),  # the service refuses it
        ("601", "Enter whole minutes from 1 to 600."),
        ("abc", "Enter a whole number."),  # the form cannot read it
    ],
)
def test_a_bad_service_area_is_shown_on_its_field_and_changes_nothing(
    client, clinic_manager, insurer, minutes, message
):
    client.force_login(clinic_manager)
    before = settings_state(insurer)

    response = client.post(url("insurer_service_area", insurer), {"area-minutes": minutes})

    assert response.status_code == 422
    assert error_of(response.content.decode(), "id_area-minutes") == message
    assert settings_state(insurer) == before


# --- Reading ----------------------------------------------------------------------------------


def test_a_booking_agent_reads_the_page_without_a_form_and_a_post_is_refused(
    client, booking_agent, finance_user, insurer
):
    insurer_pricing_update(
        actor=act(finance_user),
        insurer=insurer,
        data={"markup_percent": "35", "insurer_view": "full_breakdown"},
    )
    client.force_login(booking_agent)

    page = client.get(url("insurer_settings", insurer)).content.decode()

    assert '<dd data-testid="markup">35%</dd>' in page
    assert "Clinic cost, MedWorks fee, tax and total" in page
    assert "Only finance changes the pricing and tax." in page
    for form in ("pricing-form", "invoicing-form", "service-markup-form", "fixed-price-form",
                 "service-area-form"):  # fmt: skip
        assert f'data-testid="{form}"' not in page, form
    assert "<form" not in page.split("<main", 1)[1]
    before = settings_state(insurer)
    response = client.post(url("insurer_settings", insurer), POST_DATA["insurer_settings"])
    assert response.status_code == 403
    assert settings_state(insurer) == before


def test_the_list_shows_every_insurer_with_its_settings(client, booking_agent, finance_user):
    maple = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")
    birch = factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Travel Cover")
    insurer_pricing_update(
        actor=act(finance_user),
        insurer=maple,
        data={
            "markup_percent": "40",
            "place_of_supply": "QC",
            "tax_treatment": "zero_rated",
            "taxable_base": "fee_only",
            "insurer_view": "total_only",
            "in_network_needs_confirmation": True,
        },
    )
    maple.service_area_minutes = 45
    maple.save()
    factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Harbour Clinic")
    client.force_login(booking_agent)

    page = client.get(url("insurer_settings_list")).content.decode()

    table = page.split('data-testid="insurer-settings"', 1)[1].split("</table>", 1)[0]
    rows = {r.split("</td>", 1)[0]: r for r in table.split('<tr id="insurer-')[1:]}
    assert len(rows) == 2  # insurers only
    (maple_row,) = [r for head, r in rows.items() if "Maple Assist" in head]
    (birch_row,) = [r for head, r in rows.items() if "Birch Travel Cover" in head]
    for text in ("40%", "Quebec", "Zero-rated", "MedWorks fee only", "The total only", "Yes",
                 "45 minutes"):  # fmt: skip
        assert text in maple_row, text
    assert "(default)" not in maple_row
    for text in ("50%", "Where the service is performed", "Taxable",
                 "Clinic cost plus MedWorks fee", "price, the tax and the total", "No",
                 "60 minutes (default)"):  # fmt: skip
        assert text in birch_row, text
    assert reverse("web:insurer_settings", args=[birch.pk]) in birch_row


def test_the_home_page_and_the_navigation_lead_to_the_settings(client, booking_agent):
    client.force_login(booking_agent)
    page = client.get(reverse("web:staff_home")).content.decode()
    tiles = page.split('<div class="tiles">', 1)[1]
    assert f'href="{reverse("web:insurer_settings_list")}"' in tiles
    assert f'href="{reverse("web:tax_rates")}"' in tiles
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("web:insurer_settings_list")}"' in nav
    assert ">Pricing and tax</a>" in nav


@pytest.fixture
def french(client):
    client.cookies["django_language"] = "fr"
    return client


@pytest.mark.parametrize("persona", ["finance_user", "coordinator"])
def test_the_settings_pages_read_in_french(french, request, insurer, finance_user, persona):
    insurer_pricing_update(actor=act(finance_user), insurer=insurer, data={"markup_percent": "40"})
    french.force_login(request.getfixturevalue(persona))
    for target in (url("insurer_settings_list"), url("insurer_settings", insurer)):
        response = french.get(target)
        assert response.status_code == 200, target
        assert response["Content-Language"] == "fr"
        assert _english_words(response.content.decode(), allowed=set()) == {}, target
    page = french.get(url("insurer_settings", insurer)).content.decode()
    assert "40\xa0%" in page
