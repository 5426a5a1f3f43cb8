"""No card number leaves by email (RULES.md, cards): the outbox refuses the message."""

import pytest

from medworks.bookings import services
from medworks.bookings.models import BookingStatus
from medworks.core.errors import DomainError
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import contains_card_number, email_queue
from tests.factories import act

VISA = "4111 1111 1111 1111"


@pytest.mark.parametrize(
    "text",
    [
        "card 4111111111111111 exp 12/28",
        f"card {VISA}",
        "card 4111-1111-1111-1111",
        "amex 3782 822463 10005",
        "ref 1234 4111 1111 1111 1111",  # a card written next to other digits
        "diners 30569309025904",
        # The shapes the spaces-and-dashes guard let through (issue 14); core/cards finds them.
        "card 4111.1111.1111.1111",
        "card 4111/1111/1111/1111",
        "card 4111  1111  1111  1111",
        "card 4111\t1111\t1111\t1111",
        "card\n4111\n1111\n1111\n1111",
        "card 4111\u00a01111\u00a01111\u00a01111",
        "card 4111_1111_1111_1111",
        "card 4111,1111,1111,1111",
        "card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
        "\uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11",  # full-width digits
        "card \u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 "
        "\u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661",  # Arabic-Indic digits
    ],
)
def test_a_luhn_valid_card_number_is_found_however_it_is_written(text):
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails the Luhn check
        "Order MW-2026-000123, reference CLM-778812",
        "Phone 416-555-0199, 1-800-555-0100",
        "Tue 1 Dec 2026, 10:30 (EST)",
        "DTSTART:20261201T153000Z",
        "tracking 12345678901234567890123",  # one unbroken run longer than any card
    ],
)
def test_ordinary_numbers_are_not_mistaken_for_cards(text):
    assert not contains_card_number(text)


def test_the_outbox_refuses_an_email_carrying_a_card_number(db):
    with pytest.raises(DomainError) as refused:
        email_queue(
            to=["x@example.com"],
            template="team_dates_declined",
            context={"order_id": "MW-1", "note": f"Pay with {VISA}"},
        )
    assert refused.value.code == "email_contains_card_number"
    assert VISA not in refused.value.message
    assert not OutboxMessage.objects.exists()


def test_a_cancellation_whose_note_holds_a_card_number_is_refused_and_changes_nothing(
    offered, booking_agent
):
    case, _ = offered
    before = OutboxMessage.objects.count()
    with pytest.raises(DomainError) as refused:
        services.booking_request_cancel(
            case=case, actor=act(booking_agent), cancelled_by="insurer", note=f"card {VISA}"
        )
    # Refused where it is typed, on the note (the step's door), before any email is written;
    # the outbox's own guard stays behind it for what reaches an email another way.
    assert refused.value.code == "card_number"
    assert list(refused.value.fields) == ["note"]
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED
    assert OutboxMessage.objects.count() == before
