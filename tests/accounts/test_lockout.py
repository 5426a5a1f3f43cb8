"""Failed sign-ins are throttled per account and per address (django-axes), staff unlock."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from medworks.accounts.backends import client_ip_address
from medworks.accounts.models import RoleCode, User
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
LOCKED = "Too many failed sign-in attempts: signing in is locked for 15 minutes."
WRONG = "Please enter a correct username and password."
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.9"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5


def attempt(client: Client, username: str, password: str, *, address: str = HERE):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, *, address: str = HERE) -> list[int]:
    return [attempt(client, username, "not-the-password", address=address).status_code
            for _ in range(times)]  # fmt: skip


@pytest.fixture
def colleague(db):
    return factories.make_user(roles=[RoleCode.BOOKING_AGENT], username="colleague")


def test_wrong_passwords_are_answered_as_usual_until_the_limit_then_locked(client, booking_agent):
    answers = [attempt(client, "agent", "not-the-password") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert all(WRONG in a.content.decode() for a in answers)

    response = attempt(client, "agent", "still-wrong")  # the fifth

    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_a_locked_account_is_refused_even_with_the_right_password(client, booking_agent):
    fail(client, "agent", 5)

    response = attempt(client, "agent", factories.PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert 'name="password"' in page and 'value="agent"' in page  # the login page, again
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_every_address(client, booking_agent):
    """Per account: guessing one person's password from many addresses is stopped."""
    fail(client, "agent", 5, address=HERE)
    assert attempt(client, "agent", factories.PASSWORD, address=ELSEWHERE).status_code == 429


def test_the_address_is_locked_for_every_account(client, booking_agent, colleague):
    """Per address: trying many accounts from one address is stopped."""
    fail(client, "agent", 5, address=HERE)
    assert attempt(client, "colleague", factories.PASSWORD, address=HERE).status_code == 429


def test_another_account_from_another_address_is_not_locked(client, booking_agent, colleague):
    fail(client, "agent", 5, address=HERE)

    response = attempt(client, "colleague", factories.PASSWORD, address=ELSEWHERE)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_failures_spread_under_the_limit_per_account_and_address_lock_nothing(
    client, booking_agent, colleague
):
    fail(client, "agent", 4, address=HERE)
    fail(client, "colleague", 4, address=ELSEWHERE)
    assert attempt(client, "colleague", factories.PASSWORD, address=ELSEWHERE).status_code == 302


def test_staff_unlock_an_account_from_the_command_line(client, booking_agent):
    fail(client, "agent", 5)
    assert attempt(client, "agent", factories.PASSWORD).status_code == 429

    call_command("axes_reset_username", "agent")

    assert attempt(client, "agent", factories.PASSWORD).status_code == 302


def test_staff_unlock_an_account_in_the_admin(client, booking_agent):
    fail(client, "agent", 5)
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    staff = Client()
    staff.force_login(root)
    listing = staff.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200 and "agent" in listing.content.decode()

    locked = AccessAttempt.objects.get(username="agent")
    staff.post(f"/admin/axes/accessattempt/{locked.pk}/delete/", {"post": "yes"})

    assert not AccessAttempt.objects.exists()
    assert attempt(client, "agent", factories.PASSWORD).status_code == 302


def test_the_lock_lifts_by_itself_after_the_cool_off(client, booking_agent):
    fail(client, "agent", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert attempt(client, "agent", factories.PASSWORD).status_code == 302


def test_what_is_typed_as_a_username_is_not_written_to_the_logs(client, booking_agent, caplog):
    fail(client, "agent", 5)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("axes"))
    assert "Locking out" in logged
    assert "agent" not in logged and HERE in logged


# --- the caller's address ------------------------------------------------------------------------


def test_without_a_proxy_the_address_is_the_connections(settings):
    settings.MEDWORKS_TRUSTED_PROXIES = 0
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip_address(request) == HERE


def test_behind_our_proxy_the_address_is_the_one_it_saw_not_what_the_client_claims(settings):
    settings.MEDWORKS_TRUSTED_PROXIES = 1
    request = RequestFactory().post(
        LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {HERE}"
    )
    assert client_ip_address(request) == HERE
    garbled = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="bogus")
    assert client_ip_address(garbled) == "10.0.0.2"
