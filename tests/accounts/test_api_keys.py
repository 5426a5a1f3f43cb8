"""API keys: made for insurers only, stored as a hash, audited, revoked for good."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from medworks.accounts.models import ApiKey, OrganisationKind
from medworks.accounts.permissions import Capability, user_can
from medworks.accounts.services import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from medworks.core.errors import DomainError
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_a_hash_and_shown_by_its_prefix(insurer_user, coordinator):
    key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims system", actor=act(coordinator)
    )
    stored = ApiKey.objects.get()
    assert len(secret) >= 40
    assert stored.prefix == secret[:8]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.values().get())
    assert stored.created_by == coordinator
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.actor == coordinator
    assert event.object_id == str(key.pk)
    assert secret not in str(event.payload) + event.summary


def test_two_keys_never_share_a_secret(insurer_user):
    secrets = {
        api_key_create(organisation=insurer_user.organisation, name=f"k{i}", actor=act(None))[1]
        for i in range(5)
    }
    assert len(secrets) == 5


@pytest.mark.parametrize("kind", [OrganisationKind.AFFILIATE, OrganisationKind.OPERATOR])
def test_keys_are_only_for_insurers(kind):
    org = factories.make_organisation(kind=kind, name=f"Not an insurer ({kind})")
    with pytest.raises(DomainError) as refused:
        api_key_create(organisation=org, name="x", actor=act(None))
    assert refused.value.code == "api_key_organisation_invalid"
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_name(insurer_user):
    with pytest.raises(DomainError) as refused:
        api_key_create(organisation=insurer_user.organisation, name="  ", actor=act(None))
    assert refused.value.fields == {"name": ["Required."]}


def test_a_key_authenticates_as_its_insurer_with_the_insurers_permissions(insurer_user):
    _, secret = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    client = api_key_authenticate(secret=secret)
    assert client is not None
    assert client.organisation == insurer_user.organisation
    assert user_can(client, Capability.BOOKING_SUBMIT)
    assert user_can(client, Capability.INSURER_PORTAL)
    assert not user_can(client, Capability.BOOKING_VIEW)
    assert not user_can(client, Capability.API_KEYS_MANAGE)
    assert api_key_authenticate(secret=secret + "x") is None
    assert api_key_authenticate(secret="") is None


def test_a_revoked_key_no_longer_authenticates_and_cannot_be_revoked_twice(
    insurer_user, coordinator
):
    key, secret = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    api_key_revoke(api_key=key, actor=act(coordinator))

    assert api_key_authenticate(secret=secret) is None
    assert AuditEvent.objects.get(action="api_key.revoked").actor == coordinator
    with pytest.raises(DomainError) as refused:
        api_key_revoke(api_key=key, actor=act(coordinator))
    assert refused.value.code == "api_key_revoked"


def test_a_key_of_a_deactivated_insurer_stops_working(insurer_user):
    _, secret = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    insurer_user.organisation.is_active = False
    insurer_user.organisation.save()
    assert api_key_authenticate(secret=secret) is None


def test_last_use_is_recorded_at_most_once_a_minute(insurer_user, django_assert_num_queries):
    key, secret = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    t0 = timezone.now()
    api_key_authenticate(secret=secret, now=t0)
    key.refresh_from_db()
    assert key.last_used_at == t0

    with django_assert_num_queries(1):  # the lookup alone: no write within the minute
        api_key_authenticate(secret=secret, now=t0 + dt.timedelta(seconds=30))
    key.refresh_from_db()
    assert key.last_used_at == t0

    later = t0 + dt.timedelta(seconds=61)
    api_key_authenticate(secret=secret, now=later)
    key.refresh_from_db()
    assert key.last_used_at == later
