"""Deactivating an organisation or a user ends their sessions and API keys at once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from medworks.accounts.models import ApiKey, Organisation, Role, RoleCode, User, UserSession
from medworks.accounts.services import (
    api_key_create,
    organisation_set_active,
    user_set_active,
)
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

API = "/api/v1/booking-requests"
PORTAL = "/portal/"
SUSPENDED = "Your organisation&#x27;s access to the MedWorks desk is suspended"


@pytest.fixture
def maple(insurer_user):
    """Maple Assist: its portal user signed in (two browsers), a colleague, and its system's key."""
    org = insurer_user.organisation
    colleague = factories.make_user(
        roles=[RoleCode.INSURER_USER], organisation=org, username="colleague"
    )
    browsers = [Client(), Client(), Client()]
    browsers[0].force_login(insurer_user)
    browsers[1].force_login(insurer_user)
    browsers[2].force_login(colleague)
    key, secret = api_key_create(organisation=org, name="Claims system", actor=act(None))
    return SimpleNamespace(org=org, user=insurer_user, colleague=colleague, browsers=browsers,
                           key=key, secret=secret)  # fmt: skip


def _signed_out_to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith("/login/")


def _sign_in(client: Client, username: str):
    return client.post("/login/", {"username": username, "password": factories.PASSWORD})


def test_deactivating_an_insurer_revokes_its_api_keys_at_once(client, maple, coordinator):
    bearer = {"Authorization": f"Bearer {maple.secret}"}
    assert client.get(API, headers=bearer).status_code == 200

    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))

    answer = client.get(API, headers=bearer)
    assert answer.status_code == 401
    assert answer.json()["code"] == "api_key_invalid"
    maple.key.refresh_from_db()
    assert maple.key.revoked_at is not None


def test_deactivating_an_insurer_signs_out_every_one_of_its_users(
    maple, coordinator, booking_agent
):
    staff = Client()
    staff.force_login(booking_agent)
    for browser in maple.browsers:
        assert browser.get(PORTAL).status_code == 200

    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))

    for browser in maple.browsers:
        assert _signed_out_to_login(browser.get(PORTAL))
    assert not UserSession.objects.filter(user__organisation=maple.org).exists()
    assert staff.get("/staff/").status_code == 200  # other organisations' sessions go on


def test_a_suspended_insurers_user_is_refused_at_the_login_page_with_a_clear_message(
    client, maple, coordinator
):
    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))

    response = _sign_in(client, "insurer")

    assert response.status_code == 200
    assert SUSPENDED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _signed_out_to_login(client.get(PORTAL))


def test_a_session_of_a_suspended_organisation_is_refused_even_if_it_survived(maple, coordinator):
    """Belt and braces: a session not found by the delete (another engine, a race) is still
    refused on its next request, and the permission table refuses the user too."""
    from medworks.accounts.permissions import Capability, user_can

    Organisation.objects.filter(pk=maple.org.pk).update(is_active=False)  # sessions left alone

    response = maple.browsers[0].get(PORTAL)

    assert _signed_out_to_login(response)
    assert SUSPENDED in maple.browsers[0].get(response.url).content.decode()
    maple.user.refresh_from_db()
    assert not user_can(maple.user, Capability.INSURER_PORTAL)


def test_deactivating_is_audited_with_what_it_ended(maple, coordinator):
    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))

    event = AuditEvent.objects.get(action="organisation.deactivated")
    assert event.actor == coordinator
    assert event.object_id == str(maple.org.pk)
    assert event.payload == {"api_keys_revoked": [maple.key.prefix], "sessions_ended": 3}
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=str(maple.key.pk)).exists()


def test_deactivating_twice_changes_and_records_nothing_more(maple, coordinator):
    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))
    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))
    assert AuditEvent.objects.filter(action="organisation.deactivated").count() == 1


def test_reactivating_lets_its_users_sign_in_again_but_revoked_keys_stay_revoked(
    client, maple, coordinator
):
    organisation_set_active(organisation=maple.org, active=False, actor=act(coordinator))
    organisation_set_active(organisation=maple.org, active=True, actor=act(coordinator))

    assert _sign_in(client, "insurer").status_code == 302
    assert client.get(PORTAL).status_code == 200
    bearer = {"Authorization": f"Bearer {maple.secret}"}
    assert client.get(API, headers=bearer).status_code == 401
    assert AuditEvent.objects.filter(action="organisation.activated").count() == 1


def test_deactivating_a_user_ends_their_sessions_only(maple, coordinator):
    user_set_active(user=maple.user, active=False, actor=act(coordinator))

    assert _signed_out_to_login(maple.browsers[0].get(PORTAL))
    assert _signed_out_to_login(maple.browsers[1].get(PORTAL))
    assert maple.browsers[2].get(PORTAL).status_code == 200  # the colleague
    assert ApiKey.objects.get(pk=maple.key.pk).revoked_at is None  # the insurer's, not theirs
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.payload == {"organisation_id": maple.org.pk, "sessions_ended": 2}


def test_a_deactivated_user_cannot_sign_in(client, maple, coordinator):
    user_set_active(user=maple.user, active=False, actor=act(coordinator))
    response = _sign_in(client, "insurer")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- the Django admin takes the same road -------------------------------------------------------


@pytest.fixture
def admin_client(db):
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    browser = Client()
    browser.force_login(root)
    return SimpleNamespace(client=browser, user=root)


def test_unticking_active_on_an_organisation_in_the_admin_ends_its_keys_and_sessions(
    maple, admin_client
):
    response = admin_client.client.post(
        f"/admin/accounts/organisation/{maple.org.pk}/change/",
        {
            "name": "Maple Assist (suspended)",
            "kind": maple.org.kind,
            "correspondence_language": "en",
        },  # is_active unticked
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    maple.org.refresh_from_db()
    assert maple.org.name == "Maple Assist (suspended)" and not maple.org.is_active
    assert ApiKey.objects.get(pk=maple.key.pk).revoked_at is not None
    assert not UserSession.objects.filter(user__organisation=maple.org).exists()
    assert _signed_out_to_login(maple.browsers[0].get(PORTAL))
    assert AuditEvent.objects.get(action="organisation.deactivated").actor == admin_client.user


def test_editing_an_organisation_without_touching_active_records_no_deactivation(
    maple, admin_client
):
    admin_client.client.post(
        f"/admin/accounts/organisation/{maple.org.pk}/change/",
        {"name": "Maple Assist Inc.", "kind": maple.org.kind, "is_active": "on"},
    )
    assert not AuditEvent.objects.filter(action__startswith="organisation.").exists()
    assert maple.browsers[0].get(PORTAL).status_code == 200


def test_unticking_active_on_a_user_in_the_admin_ends_their_sessions(maple, admin_client):
    user = maple.user
    response = admin_client.client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "first_name": "Ines",
            "last_name": "",
            "date_joined_0": user.date_joined.date().isoformat(),
            "date_joined_1": "09:00:00",
            "organisation": maple.org.pk,
            "roles": [Role.objects.get(code=RoleCode.INSURER_USER).pk],
            "preferred_language": "en",
        },  # is_active unticked
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.first_name == "Ines" and not user.is_active
    assert not UserSession.objects.filter(user=user).exists()
    assert _signed_out_to_login(maple.browsers[0].get(PORTAL))
    assert maple.browsers[2].get(PORTAL).status_code == 200
    assert AuditEvent.objects.get(action="user.deactivated").actor == admin_client.user
