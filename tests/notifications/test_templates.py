"""What each booking email says, to whom, in which language, and what it never carries."""

import re
from pathlib import Path

import pytest
from django.template.loader import get_template

from medworks.bookings import emails, services
from medworks.bookings.links import offer_link_read
from medworks.bookings.models import OfferSlot
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

EMAILS_PY = Path(emails.__file__).read_text()
TEMPLATE_NAMES = sorted(
    set(re.findall(r'template="([a-z_]+)"', EMAILS_PY))
    | set(re.findall(r'_(?:insurer|team)\(\s*case,\s*"([a-z_]+)"', EMAILS_PY))
)


def _messages(template):
    return list(OutboxMessage.objects.filter(template=template))


def test_every_template_emails_py_names_exists_in_english_and_french_with_a_subject_line():
    assert len(TEMPLATE_NAMES) == 20, TEMPLATE_NAMES
    for name in TEMPLATE_NAMES:
        for language in ("en", "fr"):
            source = get_template(f"notifications/email/{name}.txt").template.source
            first_line = re.sub(r"^(\{%[^%]*%\})+", "", source.splitlines()[0])
            assert first_line.startswith("Subject: "), (name, language)


def test_a_submitted_request_acknowledges_the_insurer_and_tells_the_team_without_patient_data(
    insurer_user,
):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    (ack,) = _messages("request_received")
    (team,) = _messages("team_new_request")
    assert ack.to == [case.insurer_contact_email]
    assert case.order_id in ack.subject and case.insurer_reference in ack.subject
    assert "X-ray" in ack.body
    assert team.to == ["bookings@medworks.example"]
    assert "Maple Assist" in team.subject
    for message in (ack, team):
        assert "Tremblay" not in message.subject + message.body
        assert "wrist" not in message.body.lower()
        assert "{{" not in message.body and "{%" not in message.body


def test_the_offered_dates_email_lists_each_slot_with_its_own_approve_link_and_the_decline_link(
    offered,
):
    _case, offer = offered
    (message,) = _messages("dates_offered")
    slots = list(offer.slots.order_by("starts_at"))
    links = re.findall(r"https?://\S+/\S+", message.body)
    approve = [url for url in links if "/portal/" not in url]
    assert len(approve) == 3  # two slots, then the decline link
    kinds = [offer_link_read(url.rstrip("/").rsplit("/", 1)[-1]) for url in approve]
    assert kinds == [("approve", slots[0].pk), ("approve", slots[1].pk), ("decline", offer.pk)]
    # Each date in the clinic's time, the zone written out; and when the links stop working.
    assert re.search(r"\d{2}:00 \(E[SD]T\)", message.body)
    assert "expire in 72 hours, on " in message.body
    assert "Harbour Clinic King West, 500 King Street West, Toronto ON M5V 3L9" in message.body


def test_dates_are_written_in_the_clinics_own_time_zone(db, booking_agent, insurer_user):
    location = factories.make_location(
        name="Kits Clinic", province="BC", postal_code="V6K 1P6", email="kits@example.com"
    )
    factories.make_offering(location=location, service_code="XRAY")
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_address="2000 W 4th Ave",
        patient_city="Vancouver",
        patient_province="BC",
        patient_postal_code="V6K 1P6",
    )
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(case=case, location=location, actor=act(booking_agent))
    services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=4)], actor=act(booking_agent)
    )
    (message,) = _messages("dates_offered")
    # 10:00 in Toronto (the site's zone) is 07:00 at a Vancouver clinic.
    assert re.search(r"07:00 \(P[SD]T\)", message.body)


def test_booking_confirms_to_clinic_insurer_and_patient_each_with_what_they_need(booked):
    case, _appointment = booked
    (clinic,) = _messages("clinic_booking")
    (insurer,) = _messages("insurer_booked")
    (patient,) = _messages("patient_booked")
    assert clinic.to == ["front@harbour.example"]
    assert insurer.to == [case.insurer_contact_email]
    assert patient.to == ["patient@example.com"]
    # The clinic's shared inbox gets the minimum: the Order Id, the services, the time and the
    # patient's name; the date of birth, contact and health details are behind its portal.
    assert "Jean Tremblay" in clinic.body and case.order_id in clinic.body
    assert "X-ray" in clinic.body and "results to the patient" in clinic.body
    for private in ("1980-04-12", "416-555-0199", "patient@example.com", "wrist", "two views"):
        assert private not in clinic.body.lower()
    # The insurer gets its appointment; the patient their own; neither gets the symptoms.
    assert "Tremblay" not in insurer.body and "wrist" not in insurer.body.lower()
    assert "Hello Jean," in patient.body and "wrist" not in patient.body.lower()
    for message in (clinic, insurer, patient):
        assert [a[0] for a in message.attachments] == ["appointment.ics"]
        assert message.attachments[0][1] == "text/calendar"
        assert re.search(r"\(E[SD]T\)", message.body)


def test_without_paperwork_the_insurer_is_told_results_go_to_the_patient(booked):
    (message,) = _messages("results_direct")
    assert "share the results with the patient directly" in message.body


def test_the_patient_is_written_to_in_french_when_that_is_their_language(
    insurer_user, booking_agent, clinic_location
):
    case = factories.make_booking_request(insurer=insurer_user.organisation, patient_language="fr")
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=4)], actor=act(booking_agent)
    )
    services.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))
    (patient,) = _messages("patient_booked")
    (insurer,) = _messages("insurer_booked")
    assert patient.language == "fr"
    assert patient.subject.startswith("Votre rendez-vous le ")
    assert "Bonjour Jean," in patient.body and "Radiographie" in patient.body
    assert re.search(r"\d{2} h 00 \(E[SD]T\)", patient.body)
    assert insurer.language == "en"  # the insurer's contact reads English


def test_a_clinic_that_works_in_french_only_gets_its_emails_in_french(booked):
    case, appointment = booked
    location = appointment.location
    location.languages = "French"
    location.save(update_fields=["languages"])
    OutboxMessage.objects.all().delete()
    emails.reminder(case, appointment)
    emails.cancelled_appointment(case, appointment, note="Le patient a déménagé.")
    reminder = OutboxMessage.objects.get(template="clinic_reminder")
    cancelled = OutboxMessage.objects.get(template="clinic_cancelled")
    assert reminder.language == cancelled.language == "fr"
    assert reminder.subject.startswith("Demain : rendez-vous le ")
    assert "Patient : Jean Tremblay" in reminder.body
    assert "Motif : Le patient a déménagé." in cancelled.body


def test_text_is_not_html_escaped_in_plain_text_emails(offered, booking_agent):
    case, _ = offered
    services.booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="Patient's <choice> & co"
    )
    (message,) = _messages("cancelled")
    assert "Reason: Patient's <choice> & co" in message.body
    assert "cancelled at your request" in message.body


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_template_renders_in_both_languages_from_a_real_case(booked, language):
    from medworks.notifications.services import email_queue

    case, appointment = booked
    offer = appointment.slot.offer
    slots = [{"slot": s, "approve_url": "https://desk.example/x"} for s in OfferSlot.objects.all()]
    context = {
        **emails._base(case),
        "case_url": emails.case_url(case, audience="insurer"),
        "appointment": appointment,
        "location": appointment.location,
        "patient": case.patient,
        "offer": offer,
        "slots": slots,
        "decline_url": "https://desk.example/d",
        "link_hours": 72,
        "links_expire_at": appointment.starts_at,
        "note": "A note.",
        "postal_code": "M5V 3L9",
        "cancelled_by": "clinic",
    }
    for name in TEMPLATE_NAMES:
        message = email_queue(
            to=["someone@example.com"], template=name, language=language, context=context
        )
        assert message.subject and len(message.subject) < 160, name
        assert case.order_id in message.subject + message.body or name.startswith("patient_")
        assert "{" not in message.body and "&#x27;" not in message.body, name
        assert not re.search(r"\bNone\b(?! of)", message.body), name


def test_an_insurer_that_corresponds_in_french_gets_its_emails_in_french_unless_its_contact_chose(
    insurer_user, booking_agent, clinic_location
):
    insurer = insurer_user.organisation
    insurer.correspondence_language = "fr"
    insurer.save(update_fields=["correspondence_language"])
    case = factories.make_booking_request(insurer=insurer)
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=4)], actor=act(booking_agent)
    )
    (offered,) = _messages("dates_offered")
    assert offered.language == "fr"

    # The contact is a user of the insurer who chose English: their choice wins.
    insurer_user.email = case.insurer_contact_email
    insurer_user.preferred_language = "en"
    insurer_user.save(update_fields=["email", "preferred_language"])
    OutboxMessage.objects.all().delete()
    services.booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="Dossier fermé."
    )
    (cancelled,) = _messages("cancelled")
    assert cancelled.language == "en"


def test_a_clinic_whose_organisation_corresponds_in_french_gets_french(booked):
    case, appointment = booked
    organisation = factories.make_organisation(kind="affiliate", name="Clinique du Port")
    organisation.correspondence_language = "fr"
    organisation.save(update_fields=["correspondence_language"])
    partner = appointment.location.partner
    partner.organisation = organisation
    partner.save(update_fields=["organisation"])
    OutboxMessage.objects.all().delete()
    emails.reminder(case, appointment)
    assert OutboxMessage.objects.get(template="clinic_reminder").language == "fr"
