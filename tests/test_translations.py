"""French everywhere: the catalogue is complete and compiled, and the pages people read in French
hold no English left behind.

The page check renders the main pages of every audience in French and looks for common English
words that no French sentence contains; a text a person reads outside the translation machinery
shows up as one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation

from medworks.core.money import format_money
from tests import factories
from tests.factories import act

CATALOGUE = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "medworks"
    / "locale"
    / "fr"
    / "LC_MESSAGES"
    / "django.po"
)

# Words of English that French pages never contain (as whole words, outside names and codes).
ENGLISH = {
    "the", "and", "with", "your", "you", "for", "please", "request", "requests", "booking",
    "appointment", "clinic", "cancel", "save", "search", "sign", "out", "status", "new",
    "approve", "decline", "upload", "download", "received", "booked",
    "sourcing", "escalated", "completed", "waiting", "none", "yes", "no", "back", "home",
    "reason", "submit", "send", "next", "previous", "all", "any", "open", "closed",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-zÀ-ÿ']+")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


def test_the_french_catalogue_has_every_message_translated_and_none_fuzzy():
    catalogue = _catalogue()
    assert len(catalogue) > 500
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_is_the_catalogue():
    catalogue = _catalogue()
    compiled = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    assert {(e.msgctxt, e.msgid): e.msgstr for e in compiled if not e.msgid_plural} == {
        (e.msgctxt, e.msgid): e.msgstr
        for e in catalogue
        if e.msgid and not e.msgid_plural and e.translated()
    }


def test_money_and_dates_are_written_for_the_language():
    import datetime as dt

    from django.utils import formats

    assert format_money("1234.56", "en") == "$1,234.56"
    assert format_money("1234.56", "fr") == "1\u202f234,56\xa0$"
    day = dt.datetime(2026, 12, 7, 9, 30)
    with translation.override("fr"):
        assert formats.date_format(day, "DATETIME_FORMAT") == "7 décembre 2026, 9 h 30"
    with translation.override("en"):
        assert formats.date_format(day, "DATETIME_FORMAT") == "Dec. 7, 2026, 9:30 a.m."


def _visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return html


# Names in the test data (organisations, clinics) are data, not the page's words.
DATA_NAMES = ("Harbour Clinic", "Maple Assist", "MedWorks")


def _english_words(html: str, allowed: set[str]) -> dict[str, str]:
    """The English words found, each with the text around it (to say where it is)."""
    text = " ".join(_visible_text(html).split())
    for name in DATA_NAMES:
        text = text.replace(name, " ")
    found = {}
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word in ENGLISH and word not in allowed and word not in found:
            found[word] = text[max(0, match.start() - 60) : match.end() + 60]
    return found


@pytest.fixture
def french(client):
    client.cookies["django_language"] = "fr"
    return client


@pytest.fixture
def booked(insurer_user, booking_agent, clinic_user):
    # A French-speaking insurer's case: what people typed is in French too (data is not the page).
    location = factories.make_location(
        partner=factories.make_partner(
            name="Clinique du Port", organisation=clinic_user.organisation
        ),
        name="Clinique du Port, centre-ville",
    )
    factories.make_offering(location=location, service_code="XRAY", price="95.00")
    return factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=location,
        agent=booking_agent,
        summary="Radiographie du poignet, deux incidences.",
        symptoms="Douleur au poignet gauche après une chute.",
        scheduling_notes="Le matin de préférence.",
    )


def test_the_insurer_portal_reads_in_french(french, insurer_user, booked):
    french.force_login(insurer_user)
    for url in (
        reverse("web:portal_home"),
        reverse("web:portal_request_new"),
        reverse("web:portal_request", args=[booked.order_id]),
    ):
        response = french.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "fr"
        assert _english_words(response.content.decode(), allowed=set()) == {}, url


def test_the_clinic_portal_reads_in_french(french, clinic_user, booked):
    clinic_user.first_name, clinic_user.last_name = "Julie", "Tremblay"  # not the username
    clinic_user.save()
    french.force_login(clinic_user)
    for url in (reverse("web:clinic_home"), reverse("web:clinic_request", args=[booked.order_id])):
        response = french.get(url)
        assert response.status_code == 200, url
        assert _english_words(response.content.decode(), allowed=set()) == {}, url


def test_the_back_office_reads_in_french(french, coordinator, booked):
    french.force_login(coordinator)  # sees every staff page, the directory editing included
    partner = booked.location.partner
    for url in (
        reverse("web:partner_detail", args=[partner.pk]),
        reverse("web:partner_edit", args=[partner.pk]),
        reverse("web:location_edit", args=[booked.location_id]),
        reverse("web:directory_import"),
        reverse("web:api_keys"),
        reverse("web:staff_gop_new", args=[booked.order_id]),
        reverse("web:staff_document_new", args=[booked.order_id]),
        reverse("web:staff_case_access", args=[booked.order_id]),
        reverse("web:staff_home"),
        reverse("web:staff_booking_queue"),
        reverse("web:staff_booking_detail", args=[booked.order_id]),
        reverse("web:staff_booking_new"),
        reverse("web:partner_list"),
        reverse("web:find_clinic"),
    ):
        response = french.get(url)
        assert response.status_code == 200, url
        # "no" stays: the Order Id's prefix ("n°") is not the word, but a demo clinic or
        # service name may carry English: only the page's own words count.
        assert _english_words(response.content.decode(), allowed=set()) == {}, url


def test_the_login_page_follows_the_browser_and_the_switch_follows_the_person(client, insurer_user):
    page = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9")
    assert page["Content-Language"] == "fr"
    assert _english_words(page.content.decode(), allowed=set()) == {}
    client.force_login(insurer_user)
    switched = client.post(
        reverse("web:language_set"), {"language": "fr", "next": reverse("web:portal_home")}
    )
    assert switched.status_code == 302
    insurer_user.refresh_from_db()
    assert insurer_user.preferred_language == "fr"
    client.cookies.clear()  # the preference, not the cookie, decides for a signed-in person
    client.force_login(insurer_user)
    assert client.get(reverse("web:portal_home"))["Content-Language"] == "fr"


def test_a_person_chooses_their_language_on_their_profile(client, clinic_user):
    client.force_login(clinic_user)
    response = client.post(reverse("web:profile"), {"language": "fr"})
    assert response.status_code == 302
    clinic_user.refresh_from_db()
    assert clinic_user.preferred_language == "fr"
    assert "Votre langue" in client.get(reverse("web:profile")).content.decode()
    refused = client.post(reverse("web:profile"), {"language": "de"})
    assert refused.status_code == 400


def test_the_actor_of_a_language_change_is_audited(clinic_user):
    from medworks.accounts.services import user_set_language
    from medworks.core.models import AuditEvent

    user_set_language(user=clinic_user, language="fr", actor=act(clinic_user))
    event = AuditEvent.objects.get(action="user.language_set")
    assert event.actor == clinic_user


def test_the_signed_link_pages_read_in_french(french, booked, booking_agent):
    from medworks.bookings.links import offer_link_token
    from medworks.bookings.services import availability_offer_record

    offer = availability_offer_record(
        case=booked, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    for kind, pk in (("approve", offer.slots.get().pk), ("decline", offer.pk)):
        url = reverse("web:offer_link", kwargs={"token": offer_link_token(kind=kind, pk=pk)})
        response = french.get(url)
        assert response.status_code == 200, kind
        assert response["Content-Language"] == "fr"
        assert _english_words(response.content.decode(), allowed=set()) == {}, kind


def test_the_api_answers_in_the_callers_language(client, insurer_user):
    from medworks.accounts.services import api_key_create

    _, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims", actor=act(None)
    )
    url = "/api/v1/booking-requests"
    for language, detail, required in (
        ("en", "Some values are not valid.", "Required."),
        ("fr", "Certaines valeurs ne sont pas valides.", "Obligatoire."),
    ):
        response = client.post(
            url,
            data={"insurer_reference": ""},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 422
        assert response.json()["detail"] == detail
        assert response.json()["fields"]["patient_first_name"] == [required]
