"""The staff page for insurers' API keys: who may use it, the secret shown once, revoking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.accounts.models import ApiKey, OrganisationKind
from medworks.accounts.services import api_key_authenticate, api_key_create
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

LIST = reverse("web:api_keys")
CREATE = reverse("web:api_key_create")
REVOKE = reverse("web:api_key_revoke")

pytestmark = pytest.mark.django_db


@pytest.fixture
def insurer(insurer_user):
    return insurer_user.organisation


@pytest.mark.parametrize(
    "persona", ["booking_agent", "finance_user", "insurer_user", "clinic_user"]
)
def test_only_key_managers_may_open_the_page_or_make_a_key(client, request, insurer, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    response = client.post(CREATE, {"organisation": insurer.pk, "name": "Sneaky"})
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_an_agent_cannot_revoke_a_key(client, booking_agent, insurer):
    key, secret = api_key_create(organisation=insurer, name="Claims", actor=act(None))
    client.force_login(booking_agent)
    assert client.post(REVOKE, {"key_id": key.pk}).status_code == 403
    assert api_key_authenticate(secret=secret) is not None


def test_the_page_lists_each_insurers_keys_by_prefix_without_secrets(
    client, coordinator, insurer, django_assert_max_num_queries
):
    key, secret = api_key_create(organisation=insurer, name="Claims system", actor=act(None))
    factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Travel Cover")
    client.force_login(coordinator)
    with django_assert_max_num_queries(12):
        page = client.get(LIST).content.decode()
    assert "Maple Assist" in page and "Birch Travel Cover" in page
    assert f"{key.prefix}…" in page
    assert "Claims system" in page
    assert secret not in page
    assert ">API keys</a>" in page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


def test_a_new_key_secret_is_shown_once_and_works(client, coordinator, insurer):
    client.force_login(coordinator)
    response = client.post(CREATE, {"organisation": insurer.pk, "name": "Claims system"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.organisation == insurer and key.created_by == coordinator
    page = response.content.decode()
    secret = page.split('id="api-key-secret"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(key.prefix)
    assert api_key_authenticate(secret=secret).organisation == insurer
    # Never again: the list page shows the prefix only.
    assert secret not in client.get(LIST).content.decode()


def test_a_key_for_a_clinic_cannot_be_made(client, coordinator, clinic_user):
    client.force_login(coordinator)
    response = client.post(
        CREATE, {"organisation": clinic_user.organisation.pk, "name": "Clinic system"}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_name(client, coordinator, insurer):
    client.force_login(coordinator)
    response = client.post(CREATE, {"organisation": insurer.pk, "name": ""})
    assert response.status_code == 422
    assert not ApiKey.objects.exists()


def test_a_revoked_key_no_longer_works(client, coordinator, insurer):
    key, secret = api_key_create(organisation=insurer, name="Claims", actor=act(None))
    client.force_login(coordinator)
    response = client.post(REVOKE, {"key_id": key.pk}, follow=True)

    assert response.status_code == 200
    assert f"Key {key.prefix}… of Maple Assist is revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(secret=secret) is None
    assert AuditEvent.objects.get(action="api_key.revoked").actor == coordinator
    api = client.get("/api/v1/booking-requests", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_revoking_twice_says_so(client, coordinator, insurer):
    key, _ = api_key_create(organisation=insurer, name="Claims", actor=act(None))
    client.force_login(coordinator)
    client.post(REVOKE, {"key_id": key.pk})
    response = client.post(REVOKE, {"key_id": key.pk}, follow=True)
    assert "already revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1
