"""Two-step sign-in in the pages: the password, then the code, then the page asked for; a
session still owing its code opens nothing else; who must set up an app is sent to do so; each
person turns it on and off from their profile."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from medworks.accounts.models import RoleCode, User
from medworks.accounts.two_factor import SESSION_ENROL_KEY
from medworks.core.models import AuditEvent
from tests import factories
from tests.otp import app_code, code_for_key, enrol, wrong_code
from tests.test_translations import _english_words

LOGIN = reverse("web:login")
VERIFY = reverse("web:two_factor_verify")
ENROL = reverse("web:two_factor_enrol")
SETTINGS = reverse("web:two_factor")
QUEUE = reverse("web:staff_booking_queue")


@pytest.fixture
def staff_must(settings):
    settings.MEDWORKS_STAFF_REQUIRE_2FA = True


def sign_in(client, user, *, next_url: str = "", **extra):
    data = {"username": user.username, "password": factories.PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, **extra)


def test_the_password_then_the_apps_code_then_the_page_asked_for(client, booking_agent):
    device, _codes = enrol(booking_agent)

    after_password = sign_in(client, booking_agent, next_url=QUEUE)
    assert after_password.status_code == 302
    assert after_password["Location"] == f"{VERIFY}?next=%2Fstaff%2Fbookings%2F"
    password_only_session = client.session.session_key

    step = client.get(after_password["Location"])
    assert step.status_code == 200
    page = step.content.decode()
    assert '<h1 id="two-factor-title">Two-step sign-in</h1>' in page
    assert ">Work queue</a>" not in page  # no menu before the code
    assert client.get(QUEUE)["Location"] == f"{VERIFY}?next=%2Fstaff%2Fbookings%2F"

    done = client.post(VERIFY, {"code": app_code(device), "next": QUEUE})
    assert done.status_code == 302 and done["Location"] == QUEUE
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != password_only_session  # a new key after the code
    assert client.get(QUEUE).status_code == 200


def test_a_session_that_owes_its_code_opens_no_page_but_the_second_step(client, booking_agent):
    enrol(booking_agent)
    sign_in(client, booking_agent)

    for url in (
        reverse("web:home"),
        reverse("web:staff_home"),
        QUEUE,
        reverse("web:partner_list"),
        reverse("web:profile"),
        SETTINGS,
        "/admin/",
        "/no-such-page/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY + "?next="), url
    # Nor can it change anything: a POST is sent to the second step too, and does nothing.
    refused = client.post(reverse("web:two_factor_disable"), {"disable-code": "123456"})
    assert refused["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=booking_agent).exists()
    # Signing out still works.
    out = client.post(reverse("web:logout"))
    assert out.status_code == 302 and SESSION_KEY not in client.session


def test_the_api_and_signed_links_treat_a_session_owing_its_code_as_anonymous(
    client, booking_agent
):
    device, _codes = enrol(booking_agent)
    sign_in(client, booking_agent)

    assert client.get("/api/v1/services").status_code == 401
    link = client.get(reverse("web:offer_link", args=["not-a-real-token"]))
    assert link.status_code != 302  # answered by the link page (refused), not sent to log in
    assert b"Sign out" not in link.content

    client.post(VERIFY, {"code": app_code(device)})
    assert client.get("/api/v1/services").status_code == 200


def test_wrong_codes_are_refused_then_even_the_right_one_for_a_while(client, booking_agent):
    device, _codes = enrol(booking_agent)
    sign_in(client, booking_agent)

    wrong = client.post(VERIFY, {"code": wrong_code(device)})
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.content.decode()
    locked = client.post(VERIFY, {"code": app_code(device)})
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(QUEUE).status_code == 302


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(client, clinic_user):
    _device, codes = enrol(clinic_user)
    sign_in(client, clinic_user)

    response = client.post(VERIFY, {"code": codes[0]}, follow=True)
    assert response.status_code == 200
    assert "You signed in with a recovery code: 9 are left." in response.content.decode()
    assert AuditEvent.objects.filter(action="two_factor.recovery_code_used").count() == 1


def test_staff_who_must_but_have_no_app_set_one_up_with_a_qr_code(
    client, staff_must, booking_agent
):
    after_password = sign_in(client, booking_agent, next_url=QUEUE)
    to_enrol = client.get(after_password["Location"])
    assert to_enrol.status_code == 302
    assert to_enrol["Location"] == f"{ENROL}?next=%2Fstaff%2Fbookings%2F"

    page = client.get(to_enrol["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
    assert re.search(r'<img class="qr-code" src="data:image/svg\+xml;[^"]+"', html)
    assert 'data-testid="enrol-required"' in html
    key = client.session[SESSION_ENROL_KEY]
    secret = re.search(r'data-testid="setup-key">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert client.get(ENROL).content.decode().count(secret) == 1  # a reload: the same key

    done = client.post(ENROL, {"code": code_for_key(key), "next": QUEUE})
    assert done.status_code == 200
    shown = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.content.decode())
    assert len(shown) == 10
    assert f'href="{QUEUE}"' in done.content.decode()
    assert TOTPDevice.objects.get(user=booking_agent).confirmed
    assert client.get(QUEUE).status_code == 200  # verified by setting it up
    assert SESSION_ENROL_KEY not in client.session


def test_a_wrong_first_code_shows_the_page_again_with_the_same_key(
    client, staff_must, booking_agent
):
    sign_in(client, booking_agent)
    client.get(ENROL)
    key = client.session[SESSION_ENROL_KEY]
    right = code_for_key(key)
    response = client.post(ENROL, {"code": "000000" if right != "000000" else "111111"})
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    assert client.session[SESSION_ENROL_KEY] == key
    assert not TOTPDevice.objects.filter(user=booking_agent).exists()
    assert client.get(QUEUE).status_code == 302


def test_an_organisation_that_requires_it_sends_its_insurer_users_to_set_it_up(
    client, insurer_user
):
    organisation = insurer_user.organisation
    organisation.require_two_factor = True
    organisation.save()

    after_password = sign_in(client, insurer_user)
    assert after_password["Location"].startswith(VERIFY)
    assert client.get(after_password["Location"])["Location"].startswith(ENROL)
    assert client.get(reverse("web:portal_home"))["Location"].startswith(VERIFY)


def test_an_organisation_requiring_it_mid_session_stops_its_users_at_their_next_page(
    client, insurer_user
):
    client.force_login(insurer_user)
    assert client.get(reverse("web:portal_home")).status_code == 200
    organisation = insurer_user.organisation
    organisation.require_two_factor = True
    organisation.save()
    assert client.get(reverse("web:portal_home"))["Location"].startswith(VERIFY)


def test_a_person_with_an_app_is_asked_for_it_however_they_signed_in(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    enrol(admin)
    admin_login = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "pw-for-tests-only"}
    )
    assert admin_login.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_a_person_turns_it_on_from_their_profile_and_off_again(client, insurer_user):
    client.force_login(insurer_user)
    profile = client.get(reverse("web:profile")).content.decode()
    assert "You sign in with your password alone." in profile
    assert f'href="{SETTINGS}"' in profile
    assert 'href="' + ENROL + '"' in client.get(SETTINGS).content.decode()

    client.get(ENROL)
    codes_page = client.post(ENROL, {"code": code_for_key(client.session[SESSION_ENROL_KEY])})
    assert codes_page.status_code == 200
    assert "Two-step sign-in is on." in codes_page.content.decode()
    device = TOTPDevice.objects.get(user=insurer_user)
    page = client.get(SETTINGS).content.decode()
    assert "Recovery codes left" in page and "Turn off two-step sign-in" in page

    refused = client.post(reverse("web:two_factor_disable"), {"disable-code": wrong_code(device)})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=insurer_user).exists()
    device.throttle_reset()  # (as if the person waited)
    off = client.post(reverse("web:two_factor_disable"), {"disable-code": app_code(device)})
    assert off.status_code == 302 and off["Location"] == SETTINGS
    assert not TOTPDevice.objects.filter(user=insurer_user).exists()
    assert "You sign in with your password alone." in client.get(SETTINGS).content.decode()
    assert AuditEvent.objects.filter(action="two_factor.disabled").count() == 1
    assert client.get(reverse("web:portal_home")).status_code == 200  # still signed in


def test_required_staff_can_make_new_recovery_codes_but_not_turn_it_off(
    client, staff_must, booking_agent
):
    device, old = enrol(booking_agent)
    client.force_login(booking_agent)
    client.post(VERIFY, {"code": app_code(device)})
    page = client.get(SETTINGS).content.decode()
    assert "Two-step sign-in is required for your account." in page
    assert "Turn off two-step sign-in" not in page

    new = client.post(reverse("web:two_factor_recovery_codes"), {"regenerate-code": old[0]})
    shown = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", new.content.decode())
    assert new.status_code == 200 and len(shown) == 10 and not set(shown) & set(old)
    assert "no-store" in new["Cache-Control"]
    refused = client.post(reverse("web:two_factor_disable"), {"disable-code": app_code(device)})
    assert refused.status_code == 400
    assert "cannot be turned off" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=booking_agent).exists()


def test_the_second_step_reads_in_french(client, booking_agent):
    booking_agent.first_name, booking_agent.last_name = "Julie", "Tremblay"
    booking_agent.save()
    enrol(booking_agent)
    client.cookies["django_language"] = "fr"
    sign_in(client, booking_agent)

    response = client.get(VERIFY)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert "Connexion en deux étapes" in page
    assert _english_words(page, allowed=set()) == {}
    wrong = client.post(VERIFY, {"code": "12"}).content.decode()
    assert _english_words(wrong, allowed=set()) == {}


def test_the_set_up_and_settings_pages_read_in_french(client, clinic_user):
    clinic_user.first_name, clinic_user.last_name = "Julie", "Tremblay"
    clinic_user.save()
    client.cookies["django_language"] = "fr"
    client.force_login(clinic_user)
    for url in (ENROL, SETTINGS, reverse("web:profile")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _english_words(response.content.decode(), allowed=set()) == {}, url
    enrolled = client.post(ENROL, {"code": code_for_key(client.session[SESSION_ENROL_KEY])})
    assert _english_words(enrolled.content.decode(), allowed=set()) == {}
    assert _english_words(client.get(SETTINGS).content.decode(), allowed=set()) == {}


def test_a_staff_user_who_is_not_required_and_has_no_app_signs_in_with_the_password(
    client, booking_agent
):
    after_password = sign_in(client, booking_agent)
    assert after_password["Location"] == reverse("web:home")
    assert client.get(reverse("web:staff_home")).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("web:home")  # nothing owed
    looping = client.get(VERIFY, {"next": VERIFY + "?next=/staff/"})
    assert looping["Location"] == reverse("web:home")  # never back to the step itself
    assert client.get(VERIFY, {"next": "https://evil.example/"})["Location"] == "/"


def test_a_reset_by_staff_sends_the_next_sign_in_to_set_up_an_app_again(
    client, staff_must, booking_agent
):
    from medworks.accounts.services import user_two_factor_reset
    from tests.factories import act

    device, _codes = enrol(booking_agent)
    client.force_login(booking_agent)
    client.post(VERIFY, {"code": app_code(device)})
    senior = factories.make_user(roles=[RoleCode.SENIOR_MANAGER])

    user_two_factor_reset(user=booking_agent, actor=act(senior))

    assert client.get(QUEUE)["Location"].startswith(LOGIN)  # the session ended
    sign_in(client, booking_agent)
    assert client.get(VERIFY)["Location"].startswith(ENROL)
