"""The breach register: written through its use cases by the people who handle privacy, each
entry and change audited, card numbers refused, and kept 24 months after its last change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from medworks.core.cards import CardNumberRefused
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.privacy import services
from medworks.privacy.models import BreachRecord, RealRisk, months_after
from medworks.privacy.retention import retention_run
from tests.factories import act

pytestmark = pytest.mark.django_db


def breach_data(**overrides):
    today = timezone.localdate()
    data = {
        "found_on": today,
        "occurred_from": today - dt.timedelta(days=2),
        "occurred_to": today - dt.timedelta(days=1),
        "circumstances": "An order email was sent to the wrong clinic's address.",
        "information_involved": "Patient name, date of birth, service booked.",
        "people_affected_count": 1,
        "people_affected": "One patient of an insurer.",
        "real_risk": RealRisk.UNDETERMINED,
        "risk_reasoning": "",
        "commissioner_notified_at": None,
        "individuals_notified_at": None,
        "organisations_notified": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_a_breach_is_recorded_and_audited(chief):
    breach = services.breach_record_create(data=breach_data(), actor=act(chief))
    assert breach.recorded_by == chief and breach.updated_by == chief
    assert breach.reference == f"BR-{breach.pk:05d}"
    audit = AuditEvent.objects.get(action="privacy.breach_recorded")
    assert audit.actor == chief and audit.object_id == str(breach.pk)
    assert audit.object_type == "privacy.breachrecord"


def test_a_change_is_audited_naming_the_fields_changed(chief, director):
    breach = services.breach_record_create(data=breach_data(), actor=act(chief))
    notified = timezone.now()
    services.breach_record_update(
        breach=breach,
        data=breach_data(
            real_risk=RealRisk.YES,
            risk_reasoning="Health information reached a third party; misuse is probable.",
            commissioner_notified_at=notified,
        ),
        actor=act(director),
    )
    breach.refresh_from_db()
    assert breach.real_risk == RealRisk.YES and breach.updated_by == director
    audit = AuditEvent.objects.get(action="privacy.breach_updated")
    assert set(audit.payload["fields"]) == {
        "real_risk",
        "risk_reasoning",
        "commissioner_notified_at",
    }
    assert audit.payload["real_risk_before"] == RealRisk.UNDETERMINED
    assert "misuse" not in audit.summary  # the field names, not their text


def test_a_decision_needs_its_reasons(chief):
    with pytest.raises(DomainError) as refused:
        services.breach_record_create(data=breach_data(real_risk=RealRisk.NO), actor=act(chief))
    assert "risk_reasoning" in refused.value.fields
    assert not BreachRecord.objects.exists()


def test_dates_out_of_order_are_refused_on_their_field(chief):
    today = timezone.localdate()
    with pytest.raises(DomainError) as refused:
        services.breach_record_create(
            data=breach_data(occurred_from=today, occurred_to=today - dt.timedelta(days=3)),
            actor=act(chief),
        )
    assert set(refused.value.fields) == {"occurred_to"}
    with pytest.raises(DomainError) as refused:
        services.breach_record_create(
            data=breach_data(found_on=today + dt.timedelta(days=1)), actor=act(chief)
        )
    assert "found_on" in refused.value.fields


def test_a_card_number_typed_in_any_text_field_is_refused(chief):
    for name in ("circumstances", "information_involved", "notes", "organisations_notified"):
        with pytest.raises(CardNumberRefused) as refused:
            services.breach_record_create(
                data=breach_data(**{name: "card 4111-1111-1111-1111 was in the email"}),
                actor=act(chief),
            )
        assert set(refused.value.fields) == {name}
    assert not BreachRecord.objects.exists()


def test_only_the_people_who_handle_privacy_may_write(booking_agent, ceo, finance_user):
    for person in (booking_agent, ceo, finance_user):
        with pytest.raises(PermissionDenied):
            services.breach_record_create(data=breach_data(), actor=act(person))
    assert not BreachRecord.objects.exists()


def test_a_breach_is_kept_24_months_after_its_last_change(chief):
    breach = services.breach_record_create(data=breach_data(), actor=act(chief))
    with pytest.raises(TypeError):
        breach.delete()
    with pytest.raises(TypeError):
        BreachRecord.objects.all().delete()
    # A change a year and a half later starts the 24 months again.
    BreachRecord.objects.filter(pk=breach.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=23 * 30)
    )
    breach.refresh_from_db()
    with pytest.raises(TypeError):
        breach.delete()
    BreachRecord.objects.filter(pk=breach.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=25 * 31)
    )
    breach.refresh_from_db()
    breach.delete()
    assert not BreachRecord.objects.exists()


def test_retention_never_touches_the_register(chief):
    breach = services.breach_record_create(data=breach_data(), actor=act(chief))
    BreachRecord.objects.filter(pk=breach.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=10 * 365)
    )
    retention_run()
    assert BreachRecord.objects.filter(pk=breach.pk).exists()


def test_months_after_keeps_the_day_or_takes_the_months_last():
    moment = dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC)
    assert months_after(moment, 24) == dt.datetime(2026, 2, 28, 12, 0, tzinfo=dt.UTC)
    assert months_after(dt.datetime(2025, 1, 31, tzinfo=dt.UTC), 1).day == 28
