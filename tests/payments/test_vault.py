"""The vault (RULES.md, cards): the insurer's card sealed (number and security code only as
ciphertext bound to their row), shown whole only to the listed roles with a reason, every
showing logged; the security code destroyed at the payment or after its deadline, the number
at the payment; the keys rotated by re-sealing."""

from __future__ import annotations

import base64
import datetime as dt
import os

import pytest
from django.utils import timezone

from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.payments.cards import CardError
from medworks.payments.models import StoredCard
from medworks.payments.vault import (
    card_current,
    card_reveal,
    card_secrets_destroy,
    card_store,
    cards_sweep,
    vault_reseal,
)
from medworks.payments.vault_crypto import VaultError, key_id_of
from tests.factories import act

VISA = "4111 1111 1111 1111"


def _store(case, actor, number=VISA, **kw):
    year = timezone.localdate().year + 2
    return card_store(
        case=case,
        number=number,
        name_on_card=kw.pop("name", "Isabel Insurer"),
        expiry_month=kw.pop("month", "08"),
        expiry_year=kw.pop("year", str(year)),
        security_code=kw.pop("code", "123"),
        actor=act(actor),
        **kw,
    )


@pytest.fixture
def insurer_case(prepaid_case, insurer_user):
    """The pre-paid case, its insurer the insurer user's organisation."""
    prepaid_case.insurer = insurer_user.organisation
    prepaid_case.save(update_fields=["insurer"])
    return prepaid_case


def test_the_insurer_stores_its_card_and_only_ciphertext_holds_the_number(
    insurer_case, insurer_user
):
    card = _store(insurer_case, insurer_user)
    stored = StoredCard.objects.get(pk=card.pk)
    assert (stored.brand, stored.last4, stored.expiry_month) == ("Visa", "1111", 8)
    assert stored.entered_via == "portal" and stored.masked == "Visa ending in 1111"
    assert b"4111111111111111" not in bytes(stored.number_sealed)
    assert b"123" not in bytes(stored.security_code_sealed)[6:]  # past the key id
    event = insurer_case.events.get(kind="card_on_file")
    assert "4111111111111111" not in str(event.payload)
    assert event.payload["card"] == "Visa ending in 1111"


def test_another_insurer_and_an_outsider_cannot_enter_a_card(prepaid_case, insurer_user, outsider):
    # The prepaid case belongs to another insurer than the insurer user's.
    with pytest.raises(PermissionDenied):
        _store(prepaid_case, insurer_user)
    with pytest.raises(PermissionDenied):
        _store(prepaid_case, outsider)
    assert not StoredCard.objects.exists()


def test_bad_details_are_refused_per_field_and_nothing_stored(prepaid_case, booking_agent):
    with pytest.raises(CardError) as refused:
        _store(prepaid_case, booking_agent, number="4111 1111 1111 1112", month="13", code="12")
    assert set(refused.value.fields) == {"number", "expiry"}
    assert "4111" not in str(refused.value.fields)
    with pytest.raises(CardError) as amex:
        _store(prepaid_case, booking_agent, number="3782 822463 10005", code="123")
    assert set(amex.value.fields) == {"security_code"}
    assert not StoredCard.objects.exists()


def test_staff_enter_it_by_phone_and_a_new_card_replaces_the_old(prepaid_case, booking_agent):
    first = _store(prepaid_case, booking_agent)
    assert first.entered_via == "phone"
    second = _store(prepaid_case, booking_agent, number="5555 5555 5555 4444", code="321")
    first.refresh_from_db()
    assert first.replaced_at is not None and first.number_sealed is None
    assert first.security_code_sealed is None
    assert card_current(prepaid_case) == second


def test_a_reveal_needs_the_role_and_a_reason_and_every_attempt_is_logged(
    prepaid_case, booking_agent, coordinator, chief
):
    card = _store(prepaid_case, booking_agent)
    with pytest.raises(PermissionDenied):
        card_reveal(card=card, actor=act(booking_agent), reason="Payment call")
    with pytest.raises(DomainError) as no_reason:
        card_reveal(card=card, actor=act(chief), reason="  ")
    assert no_reason.value.code == "card_reveal_reason"
    revealed = card_reveal(
        card=card, actor=act(chief), reason="Payment call with the clinic", origin="10.0.0.7"
    )
    assert (revealed.number, revealed.security_code, revealed.expiry[:2]) == (
        "4111111111111111",
        "123",
        "08",
    )
    assert "4111" not in repr(revealed)
    assert card_reveal(card=card, actor=act(coordinator), reason="Payment call").number
    log = list(
        AuditEvent.objects.filter(action__startswith="card.reveal")
        .order_by("pk")
        .values_list("action", "payload")
    )
    assert [action for action, _ in log] == [
        "card.reveal_refused",
        "card.reveal_refused",
        "card.revealed",
        "card.revealed",
    ]
    assert log[0][1]["result"] == "forbidden" and log[1][1]["result"] == "no_reason"
    assert log[2][1]["reason"] == "Payment call with the clinic"
    assert log[2][1]["origin"] == "10.0.0.7"
    assert all("4111111111111111" not in str(payload) for _, payload in log)


def test_the_payment_destroys_the_secrets_and_keeps_what_identifies_the_card(
    prepaid_case, booking_agent, chief
):
    card = _store(prepaid_case, booking_agent)
    assert card_secrets_destroy(card=card, actor=act(chief), why="paid") == [
        "security_code",
        "number",
    ]
    card.refresh_from_db()
    assert card.number_sealed is None and card.security_code_sealed is None
    assert (card.brand, card.last4, card.expiry_month, card.name_on_card) == (
        "Visa",
        "1111",
        8,
        "Isabel Insurer",
    )
    with pytest.raises(DomainError) as gone:
        card_reveal(card=card, actor=act(chief), reason="Payment call")
    assert gone.value.code == "card_destroyed"


def test_the_sweep_destroys_security_codes_past_their_deadline_and_expired_cards(
    prepaid_case, booking_agent, settings
):
    settings.MEDWORKS_CVC_MAX_HOURS = 72
    card = _store(prepaid_case, booking_agent)
    assert cards_sweep(now=timezone.now() + dt.timedelta(hours=71)) == 0
    assert cards_sweep(now=timezone.now() + dt.timedelta(hours=73)) == 1
    card.refresh_from_db()
    assert card.security_code_sealed is None and card.number_sealed is not None
    # Past its expiry month, the number goes too.
    later = timezone.now() + dt.timedelta(days=3 * 366)  # the card expires within two years
    assert cards_sweep(now=later) == 1
    card.refresh_from_db()
    assert card.number_sealed is None


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_keys_rotate_by_resealing(prepaid_case, booking_agent, chief, settings):
    old = _key()
    from medworks.settings import _card_keys

    def ring(raw):
        return _card_keys(raw, production=False, secret_key="x")

    settings.MEDWORKS_CARD_KEYS = ring(f"old:{old}")
    card = _store(prepaid_case, booking_agent)
    assert key_id_of(card.number_sealed) == "old"
    settings.MEDWORKS_CARD_KEYS = ring(f"new:{_key()},old:{old}")
    assert card_reveal(card=card, actor=act(chief), reason="Payment call").number  # still opens
    assert vault_reseal() == 2
    card.refresh_from_db()
    assert key_id_of(card.number_sealed) == key_id_of(card.security_code_sealed) == "new"
    settings.MEDWORKS_CARD_KEYS = settings.MEDWORKS_CARD_KEYS[:1]  # the old key dropped
    assert card_reveal(card=card, actor=act(chief), reason="Payment call").security_code == "123"
    assert vault_reseal() == 0


def test_a_ciphertext_moved_to_another_card_does_not_open(prepaid_case, booking_agent, chief):
    from medworks.payments.vault_crypto import unseal

    first = _store(prepaid_case, booking_agent)
    StoredCard.objects.filter(pk=first.pk).update(replaced_at=timezone.now())
    second = _store(prepaid_case, booking_agent, number="5555 5555 5555 4444")
    with pytest.raises(VaultError):
        unseal(second.number_sealed, context=f"card:{first.pk}:number")


def test_the_reseal_command_says_what_it_moved_and_stops_cleanly_without_the_old_key(
    prepaid_case, booking_agent, settings
):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from medworks.settings import _card_keys

    old, new = _key(), _key()
    settings.MEDWORKS_CARD_KEYS = _card_keys(f"old:{old}", production=False, secret_key="x")
    _store(prepaid_case, booking_agent)
    settings.MEDWORKS_CARD_KEYS = _card_keys(f"new:{new}", production=False, secret_key="x")
    with pytest.raises(CommandError) as stopped:
        call_command("vault_reseal", stdout=io.StringIO())
    assert "Nothing was re-sealed" in str(stopped.value)
    settings.MEDWORKS_CARD_KEYS = _card_keys(
        f"new:{new},old:{old}", production=False, secret_key="x"
    )
    out = io.StringIO()
    call_command("vault_reseal", stdout=out)
    assert out.getvalue().strip() == "2 secrets sealed under the current key."
