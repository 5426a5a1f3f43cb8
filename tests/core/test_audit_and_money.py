from decimal import Decimal

import pytest

from medworks.core.audit import audit_record
from medworks.core.models import AuditEvent
from medworks.core.money import to_money
from tests.factories import act


def test_money_rounds_half_up_to_the_cent():
    assert to_money("2.675") == Decimal("2.68")
    assert to_money("2.665") == Decimal("2.67")
    assert to_money(Decimal("-1.005")) == Decimal("-1.01")
    assert to_money(7) == Decimal("7.00")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        to_money(1.1)


def test_money_refuses_text_that_is_not_an_amount():
    with pytest.raises(ValueError, match="not an amount"):
        to_money("twelve")


def test_audit_events_cannot_be_rewritten_or_deleted(db, booking_agent):
    event = audit_record(actor=act(booking_agent), action="test.done", summary="x")
    event.summary = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="changed")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"
