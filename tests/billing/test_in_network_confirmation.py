"""Whether an insurer's in-network bookings wait for its confirmation of the charges: a
per-insurer setting finance changes through `insurer_pricing_update`, a real yes or no, audited."""

from __future__ import annotations

import pytest

from medworks.accounts.models import OrganisationKind
from medworks.billing import services
from medworks.billing.models import InsurerPricing
from medworks.billing.selectors import insurer_pricing_of
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")


def test_an_insurer_starts_without_the_wait(insurer):
    assert insurer_pricing_of(insurer).in_network_needs_confirmation is False


def test_finance_turns_the_wait_on_and_off_and_each_change_is_audited(finance_user, insurer):
    pricing = services.insurer_pricing_update(
        actor=act(finance_user), insurer=insurer, data={"in_network_needs_confirmation": True}
    )

    assert InsurerPricing.objects.get(pk=pricing.pk).in_network_needs_confirmation is True
    event = AuditEvent.objects.get(action="insurer_pricing.updated")
    assert event.actor == finance_user
    assert event.payload["insurer_id"] == insurer.pk
    assert event.payload["changes"] == {"in_network_needs_confirmation": ["False", "True"]}

    services.insurer_pricing_update(
        actor=act(finance_user), insurer=insurer, data={"in_network_needs_confirmation": False}
    )
    assert insurer_pricing_of(insurer).in_network_needs_confirmation is False
    assert AuditEvent.objects.filter(action="insurer_pricing.updated").count() == 2


def test_the_same_answer_again_writes_no_audit_row(finance_user, insurer):
    data = {"in_network_needs_confirmation": False}
    services.insurer_pricing_update(actor=act(finance_user), insurer=insurer, data=data)
    assert not AuditEvent.objects.filter(action="insurer_pricing.updated").exists()


@pytest.mark.parametrize("value", ["yes", "True", "on", 1, 0, None, "", 1.0])
def test_anything_but_a_real_yes_or_no_is_refused_on_the_field(finance_user, insurer, value):
    with pytest.raises(DomainError) as refused:
        services.insurer_pricing_update(
            actor=act(finance_user),
            insurer=insurer,
            data={"in_network_needs_confirmation": value, "markup_percent": "40"},
        )

    assert refused.value.code == "in_network_needs_confirmation_invalid"
    assert list(refused.value.fields) == ["in_network_needs_confirmation"]
    # Nothing of the call is applied, the valid markup beside it neither.
    assert not InsurerPricing.objects.filter(insurer=insurer).exists()
    assert not AuditEvent.objects.exists()


def test_only_finance_changes_it(coordinator, insurer):
    with pytest.raises(PermissionDenied):
        services.insurer_pricing_update(
            actor=act(coordinator), insurer=insurer, data={"in_network_needs_confirmation": True}
        )
    assert insurer_pricing_of(insurer).in_network_needs_confirmation is False
