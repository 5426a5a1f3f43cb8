"""No input gives a 500 (issue 14), on every page and API route that takes it: a page number
past any integer, a lone surrogate in a string, a very long multipart filename, an id past
what the database holds, CR/LF in any field (some reach an email header), a malformed signed
token. What a person can send, sent as the browser or a client would send it."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver

from medworks.accounts.models import STAFF_ROLES, OrganisationKind
from medworks.accounts.services import api_key_create
from medworks.billing.models import TaxRate
from medworks.bookings.links import offer_link_token
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
LONG_NAME = "n" * 10_000 + ".pdf"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# What people (and scripts) send: every value a form or the API might choke on.
NASTY = {
    "crlf": "Line one\r\nBcc: victim@example.com\r\nSubject: hijacked",
    "surrogate": "before \ud800 after",
    "long": "x" * 20_000,
    "nul": "a\x00b",
    # Numbers that are no numbers: past any integer, an exponent, other scripts' digits.
    "numbers": (HUGE, "1e3", "\u0661\u0662\u0663", "true", "-0"),
}
# Every field name a page's form takes (the union of them all): each gets the nasty value.
FIELDS = [
    "note",
    "q",
    "find",
    "where",
    "name",
    "title",
    "signed_by",
    "signed_on",
    "attested",
    "insurer_reference",
    "policy_number",
    "patient_name",
    "patient_date_of_birth",
    "patient_first_name",
    "patient_last_name",
    "patient_address",
    "patient_city",
    "patient_postal_code",
    "patient_phone",
    "patient_email",
    "insurer_contact_name",
    "insurer_contact_email",
    "insurer_contact_phone",
    "symptoms",
    "summary",
    "scheduling_notes",
    "preferred_dates",
    "services",
    "service",
    "price",
    "max_amount",
    "valid_from",
    "valid_to",
    "copay_exclusions",
    "billing_instructions",
    "currency",
    "authorised_services",
    "provider",
    "address",
    "city",
    "postal_code",
    "province",
    "phone",
    "email",
    "contact_name",
    "contact_email",
    "contact_phone",
    "tax_number",
    "notes",
    "languages",
    "markup_percent",
    "rate",
    "source",
    "minutes",
    "status",
    "kind",
    "location",
    "slot",
    "slot_id",
    "document",
    "owner",
    "insurer",
    "organisation",
    "cancelled_by",
    "source_text",
    "carried_name",
    "carried_b64",
    "language",
    "code",
    "practitioner",
    "page",
    "state",
    "urgency",
    "provider-name",
    "provider-note",
    "form-TOTAL_FORMS",
    "form-INITIAL_FORMS",
    "form-0-starts_at",
    "form-0-practitioner",
    "key",
    # The insurer's invoicing settings (staff/insurer_settings.py: a prefixed form).
    "invoicing-invoicing",
    "invoicing-payment_terms_days",
    "invoicing-billing_email",
    "invoicing-billing_address",
    "as_of",
]


def _routes(urlconf: str = "medworks.web.urls"):
    for pattern in get_resolver(urlconf).url_patterns:
        route = str(pattern.pattern)
        yield pattern.name, route


@pytest.fixture
def world(insurer_user, clinic_user, booking_agent):
    """A case of the insurer at the clinic user's location, dates offered, one GOP issued."""
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    offering = factories.make_offering(location=location, service_code="XRAY")
    case, offer = factories.make_case_with_offer(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )
    slot = offer.slots.first()
    staff = factories.make_user(roles=sorted(STAFF_ROLES), username="everyone")
    _key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims", actor=act(None)
    )
    ids = {
        "partner_id": partner.pk,
        "location_id": location.pk,
        "offering_id": offering.pk,
        "patient_id": case.patient_id,
        "insurer_id": insurer_user.organisation_id,
        "rate_id": TaxRate.objects.first().pk,
        "version_id": 1,
        "gop_id": 1,
        "email_id": 1,
        "slot_id": slot.pk,
    }
    return SimpleNamespace(
        case=case, offer=offer, slot=slot, staff=staff, secret=secret, ids=ids, location=location
    )


def _url(route: str, world) -> str:
    def fill(match):
        converter, name = match.group(1), match.group(2)
        if name == "order_id":
            return world.case.order_id
        if name == "token":
            return "not-a-token"
        if converter == "slug":
            return "close"
        return str(world.ids.get(name, 1))

    return "/" + re.sub(r"<(\w+):(\w+)>", fill, route)


def _form_body(value: str | tuple[str, ...]) -> bytes:
    """A urlencoded body as a browser sends it; a lone surrogate becomes bytes that are not
    UTF-8 (%ED%A0%80), which is what reaches a server. Several values are given in turn."""
    values = value if isinstance(value, tuple) else (value,)
    pairs = [(name, values[i % len(values)]) for i, name in enumerate(FIELDS)]
    pairs += [("services", values[0]), ("read", "1")]
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


@pytest.mark.parametrize("persona", ["staff", "insurer_user", "clinic_user"])
@pytest.mark.parametrize("kind", NASTY)
def test_no_form_field_of_any_page_gives_a_500(request, world, persona, kind):
    user = world.staff if persona == "staff" else request.getfixturevalue(persona)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    body = _form_body(NASTY[kind])
    for name, route in _routes():
        url = _url(route, world)
        client.force_login(user)  # a route may sign out (logout, two-step sign-in off)
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (name, url, kind, response.status_code)
        first = NASTY[kind][0] if isinstance(NASTY[kind], tuple) else NASTY[kind]
        query = urlencode({"q": first, "page": HUGE}, errors="surrogatepass")
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, (name, url, kind, "GET", response.status_code)


@pytest.mark.parametrize("persona", ["staff", "insurer_user", "clinic_user"])
def test_a_ten_thousand_character_file_name_is_never_a_500(request, world, persona):
    user = world.staff if persona == "staff" else request.getfixturevalue(persona)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for name, route in _routes():
        url = _url(route, world)
        client.force_login(user)
        for field in ("file", "source_file", "provider-file"):
            upload = SimpleUploadedFile(LONG_NAME, PDF, content_type="application/pdf")
            response = client.post(
                url, {field: upload, "kind": "completed_form", "signed_by": "Dr Roy"}
            )
            assert response.status_code < 500, (name, url, field, response.status_code)


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a" * 5000,
        "é",
        "%ED%A0%80",
        "a:b:c",
        "eyJrIjoiYXBwcm92ZSIsImlkIjo5OTl9:1vAbcd:xyz",
        ".eJyrVspWslIyNDGwVNJRKi1OLcpLzFGyUgIAOu4GEQ:1vAbcd:notasignature",
    ],
)
def test_a_malformed_signed_token_is_never_a_500(client, world, token):
    for route in ("links/offer", "links/quote", "links/clinic"):
        url = f"/{route}/{token}/"
        for response in (
            client.get(url),
            client.post(url, {"note": "why", "decline": "1", "dates": "1"}),
        ):
            assert response.status_code < 500, (url, response.status_code)
            assert response.status_code in {400, 404, 410}, (url, response.status_code)


def test_a_signed_token_of_another_link_is_refused(client, world):
    """A real offer-link token opens no quote or clinic page."""
    token = offer_link_token(kind="approve", pk=world.slot.pk)
    for route in ("links/quote", "links/clinic"):
        response = client.get(f"/{route}/{token}/")
        assert response.status_code == 400, route


# --- the API --------------------------------------------------------------------------------


def _api_routes(world):
    order = world.case.order_id
    base = "/api/v1/booking-requests"
    return [
        ("post", base),
        ("get", base),
        ("get", f"{base}/{order}"),
        ("post", f"{base}/{order}/offers/approve"),
        ("post", f"{base}/{order}/offers/decline"),
        ("post", f"{base}/{order}/cancel"),
        ("post", f"{base}/{order}/documents"),
        ("get", f"{base}/{order}/documents"),
        ("get", f"/api/v1/documents/{HUGE}/download"),
        ("get", "/api/v1/documents/0/download"),
        ("post", f"{base}/{order}/gops"),
        ("get", f"{base}/{order}/gops"),
        ("post", f"{base}/{order}/gops/{HUGE}/amend"),
        ("get", f"{base}/{order}/quote"),
        ("post", f"{base}/{order}/quote/confirm"),
        ("post", f"{base}/{order}/quote/dispute"),
        ("get", "/api/v1/services"),
        ("get", "/api/v1/matches"),
        ("get", f"{base}/{'M' * 5000}"),
    ]


def _every_field(value) -> dict:
    keys = [*FIELDS, "slot_id", "services", "preferred_dates", "authorised_services"]
    return {key: value for key in keys}


API_VALUES = {
    "surrogate": "before \ud800 after",
    "crlf": "Line one\r\nBcc: victim@example.com",
    "huge id": 10**30,
    "true as an id": True,
    "a list of true": [True],
    "a float": 1e308,
    "long": "x" * 20_000,
    "exponent": "1e3",
    "nul": "a\x00b",
}


@pytest.mark.parametrize("kind", API_VALUES)
def test_no_api_field_gives_a_500(world, kind):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {world.secret}", "Idempotency-Key": "k-" + kind}
    body = _every_field(API_VALUES[kind])
    for method, url in _api_routes(world):
        if method == "get":
            query = urlencode(
                {"page": HUGE, "postal_code": str(API_VALUES[kind]), "service": "XRAY"},
                errors="surrogatepass",
            )
            response = client.get(f"{url}?{query}", headers=headers)
        else:
            response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code < 500, (url, kind, response.status_code, response.content)
        assert response["Content-Type"].startswith("application/json"), url


def test_the_api_never_reads_true_as_an_id(world):
    """JSON's true is 1 to Python: it names no service and no date."""
    client = Client()
    headers = {"Authorization": f"Bearer {world.secret}"}
    order = world.case.order_id
    data = factories.booking_request_data(services=[True])
    response = client.post(
        "/api/v1/booking-requests", data, content_type="application/json", headers=headers
    )
    assert response.status_code == 422, response.content
    assert "services" in response.json()["fields"]
    response = client.post(
        f"/api/v1/booking-requests/{order}/offers/approve",
        {"slot_id": True},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422, response.content
    world.case.refresh_from_db()
    assert world.case.status == "dates_offered"


def test_a_lone_surrogate_reaches_no_row(world):
    """Text the database cannot hold is made text at the door (U+FFFD), never a 500."""
    client = Client()
    headers = {"Authorization": f"Bearer {world.secret}"}
    data = factories.booking_request_data(symptoms="pain \ud800 here", summary="\udcff")
    response = client.post(
        "/api/v1/booking-requests", data, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    from medworks.bookings.models import BookingRequest

    case = BookingRequest.objects.get(order_id=response.json()["order_id"])
    assert case.symptoms == "pain \ufffd here"


def test_an_api_file_name_of_ten_thousand_characters_is_never_a_500(world):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {world.secret}"}
    upload = SimpleUploadedFile(LONG_NAME, PDF, content_type="application/pdf")
    response = client.post(
        f"/api/v1/booking-requests/{world.case.order_id}/documents",
        {"file": upload, "kind": "gop"},
        headers=headers,
    )
    assert response.status_code < 500, response.content


def test_crlf_in_an_insurer_reference_never_reaches_an_email_header(world, insurer_user):
    """The reference is in the subject: one line, whatever the request said; a line break in
    a single-line field is refused where it is typed."""
    client = Client()
    client.force_login(insurer_user)
    data = factories.booking_request_data(insurer_reference="CLM-1\r\nBcc: victim@example.com")
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    response = client.post("/portal/requests/new/", data)
    assert response.status_code == 200
    assert "Keep this on one line." in response.content.decode()
    from medworks.bookings.models import BookingRequest

    assert not BookingRequest.objects.filter(insurer_reference__contains="Bcc").exists()
    for message in OutboxMessage.objects.all():
        assert "\n" not in message.subject and "\r" not in message.subject
        assert all("\n" not in to and "\r" not in to for to in message.to)


def test_an_api_key_for_a_huge_or_wrong_organisation_is_never_a_500(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.staff)
    response = client.post("/staff/api-keys/new/", {"organisation": HUGE, "name": "x"})
    assert response.status_code < 500
    other = factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Clinic Org")
    response = client.post("/staff/api-keys/new/", {"organisation": other.pk, "name": "x"})
    assert response.status_code < 500


def test_an_email_with_bytes_that_are_not_text_is_read_without_a_500(world):
    """Raw 8-bit bytes in headers and body (no charset said): the email package keeps them as
    lone surrogates, which a page cannot be written with."""
    raw = (
        b"From: \xff\xfe Adjuster <adjuster@maple.example>\r\n"
        b"Subject: Booking \xe9\xff request \xed\xa0\x80\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Patient: Jean \xff Tremblay\r\nPostal code M5V 3L9\r\nClaim CLM-2026-1\r\n"
    )
    client = Client(raise_request_exception=False)
    client.force_login(world.staff)
    upload = SimpleUploadedFile("request.eml", raw, content_type="message/rfc822")
    response = client.post(
        "/staff/bookings/new/",
        {"source_file": upload, "insurer": world.case.insurer_id, "read": "1"},
    )
    assert response.status_code < 500, response.status_code
    response.content.decode("utf-8")  # the page is text
