"""The staff inbox: the emails waiting for an agent, each opening the intake page prefilled
from it; a dismiss button; the replies filed on a case, downloadable from its page."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from medworks.bookings.models import BookingRequest, Channel
from medworks.core.models import AuditEvent
from medworks.mailbox.models import InboundEmail, InboundStatus
from medworks.mailbox.services import inbound_email_receive
from tests import factories

from .conftest import message

INBOX = reverse("web:staff_inbox")
INTAKE = reverse("web:staff_booking_new")
CARD = "4111 1111 1111 1111"


def receive(name: str, raw: bytes | None = None) -> InboundEmail:
    return inbound_email_receive(raw=raw or message(name)).inbound_email


@pytest.fixture
def waiting(insurers):
    """Three emails waiting: an unknown sender, a malformed one, one with a card number."""
    return [receive(n) for n in ("french-latin1.eml", "malformed.eml", "card-number.eml")]


def test_the_inbox_lists_the_waiting_emails_newest_first_with_why_they_wait(
    client, booking_agent, waiting, django_assert_max_num_queries
):
    client.force_login(booking_agent)

    with django_assert_max_num_queries(12):
        response = client.get(INBOX)

    assert response.status_code == 200
    rows = [email for email, _reasons in response.context["rows"]]
    assert rows == list(reversed(waiting))
    page = response.content.decode()
    for text in ["Josée Côté", "Réservation d&#x27;un examen à Québec",
                 "No insurance partner is known to write from clinique-cote.example.",
                 "The message is malformed: its parts cannot be found.",
                 "The message has no sender address.",
                 "It holds a card number (ending 1111)"]:  # fmt: skip
        assert text in page, text
    # Never the body, and never a card number.
    assert "Pouvez-vous réserver" not in page and "Front Street" not in page
    assert CARD not in page and "4111" not in page


def test_the_inbox_says_when_nothing_waits(client, booking_agent, maple):
    receive("plain.eml")  # became a case: not waiting
    client.force_login(booking_agent)

    page = client.get(INBOX).content.decode()

    assert "No email is waiting for an agent." in page


def test_opening_a_waiting_email_prefills_the_intake_page_from_it(client, booking_agent, maple):
    raw = message("plain.eml").replace(b"Date of birth: 1980-04-12\n", b"")  # incomplete
    inbound = receive("", raw)
    assert inbound.status == InboundStatus.NEEDS_AGENT
    client.force_login(booking_agent)
    assert f"{INTAKE}?inbound={inbound.pk}" in client.get(INBOX).content.decode()

    response = client.get(INTAKE, {"inbound": inbound.pk})

    assert response.status_code == 200
    initial = response.context["form"].initial
    assert (initial["patient_first_name"], initial["patient_last_name"]) == ("Jean", "Tremblay")
    assert initial["insurer_reference"] == "CLM-2026-0042"
    assert "patient_date_of_birth" not in initial
    assert response.context["source_form"].initial["insurer"] == str(maple.pk)
    page = response.content.decode()
    assert "Missing or not valid: Date of birth." in page
    assert f'name="inbound" value="{inbound.pk}"' in page
    assert response.context["carried_b64"] == ""  # the message stays on the server
    opened = AuditEvent.objects.get(action="inbound_email.viewed")
    assert (opened.actor, opened.object_id) == (booking_agent, str(inbound.pk))


def test_the_agent_makes_the_case_of_a_waiting_email(client, booking_agent, maple):
    raw = message("plain.eml").replace(b"Date of birth: 1980-04-12\n", b"")
    inbound = receive("", raw)
    client.force_login(booking_agent)
    data = factories.booking_request_data(insurer_reference="CLM-2026-0042")
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data.update({"create": "1", "insurer": maple.pk, "inbound": inbound.pk})
    data["paperwork_required"] = ""

    response = client.post(INTAKE, data)

    case = BookingRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:staff_booking_detail", args=[case.order_id])
    assert (case.channel, case.created_by) == (Channel.EMAIL, booking_agent)
    assert bytes(case.source_content).replace(b"\r\n", b"\n") == raw
    inbound.refresh_from_db()
    assert (inbound.status, inbound.case, inbound.decided_by) == (
        InboundStatus.CASE_CREATED,
        case,
        booking_agent,
    )
    assert "No email is waiting" in client.get(INBOX).content.decode()
    # Made once: the same form posted again finds the email handled.
    assert client.post(INTAKE, data).status_code == 404
    assert BookingRequest.objects.count() == 1


def test_a_card_number_in_a_waiting_email_never_reaches_a_page(client, booking_agent, maple):
    inbound = receive("card-number.eml")
    client.force_login(booking_agent)

    response = client.get(INTAKE, {"inbound": inbound.pk})

    page = response.content.decode()
    assert "This message holds a card number (ending 1111)" in page
    assert CARD not in page and "4111" not in page
    assert base64.b64encode(message("card-number.eml"))[:40].decode() not in page
    assert not any("4111" in str(v) for v in response.context["form"].initial.values())


def test_an_agent_dismisses_a_waiting_email(client, booking_agent, waiting):
    client.force_login(booking_agent)
    spam = waiting[1]

    response = client.post(reverse("web:staff_inbox_dismiss"), {"message": spam.pk}, follow=True)

    assert "The email was dismissed." in response.content.decode()
    spam.refresh_from_db()
    assert (spam.status, spam.decided_by) == (InboundStatus.DISMISSED, booking_agent)
    assert spam not in [email for email, _ in response.context["rows"]]
    assert AuditEvent.objects.filter(action="inbound_email.dismissed").count() == 1
    # Dismissed, it is no longer waiting: neither dismissed again nor opened.
    again = client.post(reverse("web:staff_inbox_dismiss"), {"message": spam.pk}, follow=True)
    assert "no longer waiting" in again.content.decode()
    assert client.get(INTAKE, {"inbound": spam.pk}).status_code == 404


def test_the_inbox_reads_in_french(client, booking_agent, insurers):
    from tests.test_translations import _english_words

    receive("french-latin1.eml")
    client.cookies["django_language"] = "fr"
    client.force_login(booking_agent)

    response = client.get(INBOX)

    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert "Boîte de réception" in page
    assert "Aucun partenaire d&#x27;assurance" in page or "Aucun partenaire d'assurance" in page
    assert "Josée Côté" in page
    assert "décembre 2026" in page
    assert _english_words(page, allowed=set()) == {}


def test_a_reply_filed_on_a_case_is_downloadable_from_its_page(client, finance_user, maple):
    case = factories.make_booking_request(insurer=maple)
    reply = message("reply.eml").replace(b"MW-2026-000001", case.order_id.encode())
    inbound = receive("", reply)
    assert inbound.status == InboundStatus.FILED
    client.force_login(finance_user)  # any staff reader

    page = client.get(reverse("web:staff_booking_detail", args=[case.order_id])).content.decode()

    url = reverse("web:staff_booking_email", args=[case.order_id, inbound.pk])
    assert url in page
    assert "Email received" in page
    download = client.get(url)
    assert download.status_code == 200
    assert download.content == reply
    assert "attachment" in download["Content-Disposition"]
    assert AuditEvent.objects.filter(
        action="booking_request.email_downloaded", object_id=str(case.pk)
    ).exists()


def test_an_email_filed_on_another_case_is_not_found_from_this_one(client, booking_agent, maple):
    case, other = (
        factories.make_booking_request(insurer=maple),
        factories.make_booking_request(insurer=maple),
    )
    inbound = receive("", message("reply.eml").replace(b"MW-2026-000001", case.order_id.encode()))
    client.force_login(booking_agent)

    url = reverse("web:staff_booking_email", args=[other.order_id, inbound.pk])

    assert client.get(url).status_code == 404
