"""A second factor at sign-in: who must have one, setting up an app, codes that work once,
wrong codes throttled, recovery codes, turning it off, staff resetting a lost phone; each
change audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from medworks.accounts.models import Organisation, OrganisationKind, RoleCode, User, UserSession
from medworks.accounts.services import (
    organisation_set_two_factor_required,
    user_two_factor_reset,
)
from medworks.accounts.two_factor import (
    SESSION_OWED,
    TooManyAttempts,
    two_factor_disable,
    two_factor_enrol,
    two_factor_key_new,
    two_factor_provisioning,
    two_factor_recovery_codes_regenerate,
    two_factor_required,
    two_factor_status,
    two_factor_verify,
)
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act
from tests.otp import app_code, code_for_key, enrol, wrong_code


@pytest.fixture
def staff_must(settings):
    settings.MEDWORKS_STAFF_REQUIRE_2FA = True


@pytest.fixture
def senior_manager(db):
    return factories.make_user(roles=[RoleCode.SENIOR_MANAGER], username="senior")


def _audited(action: str, user) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type="accounts.user", object_id=str(user.pk)
        )
    )


def _wait_out_the_lock(device) -> None:
    """As if the person waited: the last failure an hour ago (the count stays)."""
    device.refresh_from_db()
    assert device.throttling_failure_timestamp is not None, "no wrong code to wait out"
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp - dt.timedelta(hours=1)
    )
    device.refresh_from_db()


# --- Who must ---------------------------------------------------------------------------


def test_every_medworks_staff_user_must_while_the_setting_is_on(
    staff_must, booking_agent, finance_user, insurer_user, clinic_user
):
    assert two_factor_required(booking_agent)
    assert two_factor_required(finance_user)
    assert not two_factor_required(insurer_user)
    assert not two_factor_required(clinic_user)
    assert not two_factor_required(AnonymousUser())


def test_staff_need_not_when_the_setting_is_off(settings, booking_agent):
    settings.MEDWORKS_STAFF_REQUIRE_2FA = False
    assert not two_factor_required(booking_agent)


def test_whoever_opens_the_admin_is_staff_too_even_without_an_organisation(staff_must, db):
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    assert root.organisation_id is None
    assert two_factor_required(root)


def test_an_organisation_can_require_it_of_its_users_and_it_is_audited(
    insurer_user, clinic_user, coordinator
):
    organisation = insurer_user.organisation
    organisation_set_two_factor_required(
        organisation=organisation, required=True, actor=act(coordinator)
    )
    organisation_set_two_factor_required(
        organisation=organisation, required=True, actor=act(coordinator)
    )

    insurer_user.refresh_from_db()
    assert insurer_user.organisation.require_two_factor
    assert two_factor_required(insurer_user)
    assert not two_factor_required(clinic_user)  # another organisation
    rows = AuditEvent.objects.filter(action="organisation.two_factor_required_set")
    assert [r.payload for r in rows] == [{"require_two_factor": True}]  # no change, no row


# --- Setting up an app ------------------------------------------------------------------


def test_the_app_is_given_a_url_to_scan_and_the_key_written_out(insurer_user):
    key = two_factor_key_new()
    provisioning = two_factor_provisioning(user=insurer_user, key=key)
    assert provisioning.url.startswith("otpauth://totp/MedWorks%20Booking%20Desk%3Ainsurer?")
    assert "issuer=MedWorks%20Booking%20Desk" in provisioning.url
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", provisioning.secret)
    assert provisioning.secret.replace(" ", "") in provisioning.url


def test_the_apps_first_code_turns_it_on_with_ten_recovery_codes(insurer_user):
    key = two_factor_key_new()
    device, codes = two_factor_enrol(
        user=insurer_user, key=key, code=code_for_key(key), actor=act(insurer_user)
    )

    assert device.confirmed and device.key == key and device.user == insurer_user
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    status = two_factor_status(insurer_user)
    assert status.enabled and status.recovery_codes_left == 10 and not status.required
    [row] = _audited("two_factor.enrolled", insurer_user)
    assert row.actor == insurer_user
    assert row.payload == {"device_id": device.pk, "recovery_codes": 10}
    assert key not in str(row.payload) and codes[0] not in str(row.payload)


def test_a_wrong_first_code_turns_nothing_on(insurer_user):
    key = two_factor_key_new()
    right = code_for_key(key)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(DomainError) as refused:
        two_factor_enrol(user=insurer_user, key=key, code=wrong, actor=act(insurer_user))
    assert refused.value.code == "two_factor_code_wrong"
    assert "code" in refused.value.fields
    assert not TOTPDevice.objects.filter(user=insurer_user).exists()
    assert not StaticDevice.objects.filter(user=insurer_user).exists()
    assert _audited("two_factor.enrolled", insurer_user) == []


def test_a_second_app_cannot_be_set_up_over_the_first(insurer_user):
    enrol(insurer_user)
    key = two_factor_key_new()
    with pytest.raises(DomainError) as refused:
        two_factor_enrol(
            user=insurer_user, key=key, code=code_for_key(key), actor=act(insurer_user)
        )
    assert refused.value.code == "two_factor_already_on"
    assert TOTPDevice.objects.filter(user=insurer_user).count() == 1


# --- Codes ------------------------------------------------------------------------------


def test_the_apps_code_signs_in_once_and_not_twice(booking_agent):
    device, _codes = enrol(booking_agent)
    code = app_code(device)

    accepted, left = two_factor_verify(user=booking_agent, code=code, actor=act(booking_agent))
    assert accepted == device and left is None
    with pytest.raises(DomainError) as replayed:
        two_factor_verify(user=booking_agent, code=code, actor=act(booking_agent))
    assert replayed.value.code == "two_factor_code_wrong"


def test_a_recovery_code_works_once_however_it_is_typed_and_is_audited(clinic_user):
    _device, codes = enrol(clinic_user)

    accepted, left = two_factor_verify(
        user=clinic_user, code=f"  {codes[3].upper()} ", actor=act(clinic_user)
    )
    assert isinstance(accepted, StaticDevice) and left == 9
    assert StaticToken.objects.filter(device__user=clinic_user).count() == 9
    [row] = _audited("two_factor.recovery_code_used", clinic_user)
    assert row.payload == {"recovery_codes_left": 9, "purpose": "sign_in"}

    with pytest.raises(DomainError) as again:
        two_factor_verify(user=clinic_user, code=codes[3], actor=act(clinic_user))
    assert again.value.code == "two_factor_code_wrong"
    assert "used already" in again.value.message


def test_repeated_wrong_codes_lock_the_app_out_even_for_the_right_code(booking_agent):
    device, _codes = enrol(booking_agent)
    actor = act(booking_agent)

    with pytest.raises(DomainError) as wrong:
        two_factor_verify(user=booking_agent, code=wrong_code(device), actor=actor)
    assert wrong.value.code == "two_factor_code_wrong"
    # At once after a wrong code, the right one is refused too, saying why and for how long.
    with pytest.raises(TooManyAttempts) as locked:
        two_factor_verify(user=booking_agent, code=app_code(device), actor=actor)
    assert locked.value.status == 429
    assert "Too many wrong codes" in locked.value.message
    assert "not even the right one" in locked.value.message

    for _ in range(4):  # four more wrong codes, each after waiting out the lock
        _wait_out_the_lock(device)
        with pytest.raises(DomainError):
            two_factor_verify(user=booking_agent, code=wrong_code(device), actor=actor)
    device.refresh_from_db()
    assert device.throttling_failure_count == 5
    with pytest.raises(TooManyAttempts) as longer:
        two_factor_verify(user=booking_agent, code=app_code(device), actor=actor)
    assert re.search(r"for the next 1[56] seconds", longer.value.message)  # 2^(5-1)

    _wait_out_the_lock(device)
    accepted, _left = two_factor_verify(user=booking_agent, code=app_code(device), actor=actor)
    assert accepted == device
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_wrong_recovery_codes_are_throttled_too(clinic_user):
    _device, codes = enrol(clinic_user)
    with pytest.raises(DomainError):
        two_factor_verify(user=clinic_user, code="aaaaa-aaaaa", actor=act(clinic_user))
    with pytest.raises(TooManyAttempts):
        two_factor_verify(user=clinic_user, code=codes[0], actor=act(clinic_user))
    assert StaticToken.objects.filter(device__user=clinic_user).count() == 10  # none used


def test_a_person_without_an_app_has_no_code_to_give(insurer_user):
    with pytest.raises(DomainError) as refused:
        two_factor_verify(user=insurer_user, code="123456", actor=act(insurer_user))
    assert refused.value.code == "two_factor_not_enrolled"


# --- Recovery codes again, turning off --------------------------------------------------


def test_new_recovery_codes_need_a_code_and_retire_the_old_ones(insurer_user):
    device, old = enrol(insurer_user)
    with pytest.raises(DomainError):
        two_factor_recovery_codes_regenerate(
            user=insurer_user, code=wrong_code(device), actor=act(insurer_user)
        )
    assert _audited("two_factor.recovery_codes_regenerated", insurer_user) == []
    _wait_out_the_lock(device)

    new = two_factor_recovery_codes_regenerate(
        user=insurer_user, code=app_code(device), actor=act(insurer_user)
    )
    assert len(new) == 10 and not set(new) & set(old)
    assert len(_audited("two_factor.recovery_codes_regenerated", insurer_user)) == 1
    with pytest.raises(DomainError):
        two_factor_verify(user=insurer_user, code=old[0], actor=act(insurer_user))
    _wait_out_the_lock(StaticDevice.objects.get(user=insurer_user))  # the old code was wrong
    accepted, left = two_factor_verify(user=insurer_user, code=new[0], actor=act(insurer_user))
    assert isinstance(accepted, StaticDevice) and left == 9


def test_turning_it_off_needs_a_code_and_removes_the_app_and_its_codes(insurer_user):
    device, codes = enrol(insurer_user)
    with pytest.raises(DomainError):
        two_factor_disable(user=insurer_user, code=wrong_code(device), actor=act(insurer_user))
    assert TOTPDevice.objects.filter(user=insurer_user).exists()
    _wait_out_the_lock(device)

    two_factor_disable(user=insurer_user, code=codes[0], actor=act(insurer_user))

    assert not TOTPDevice.objects.filter(user=insurer_user).exists()
    assert not StaticToken.objects.filter(device__user=insurer_user).exists()
    assert not two_factor_status(insurer_user).enabled
    [row] = _audited("two_factor.disabled", insurer_user)
    assert row.payload == {"devices_removed": 1, "with_recovery_code": True}


def test_it_cannot_be_turned_off_when_it_is_required(staff_must, booking_agent):
    device, _codes = enrol(booking_agent)
    with pytest.raises(DomainError) as refused:
        two_factor_disable(user=booking_agent, code=app_code(device), actor=act(booking_agent))
    assert refused.value.code == "two_factor_required"
    assert TOTPDevice.objects.filter(user=booking_agent, confirmed=True).exists()
    assert _audited("two_factor.disabled", booking_agent) == []


# --- Staff reset a lost phone -----------------------------------------------------------


def test_a_senior_manager_resets_a_lost_phone_and_every_session_of_its_owner_ends(
    client, senior_manager, insurer_user
):
    enrol(insurer_user)
    client.force_login(insurer_user)
    assert UserSession.objects.filter(user=insurer_user).count() == 1

    removed = user_two_factor_reset(user=insurer_user, actor=act(senior_manager))

    assert removed == 1
    assert not TOTPDevice.objects.filter(user=insurer_user).exists()
    assert not StaticDevice.objects.filter(user=insurer_user).exists()
    assert not UserSession.objects.filter(user=insurer_user).exists()
    [row] = _audited("two_factor.reset", insurer_user)
    assert row.actor == senior_manager
    assert row.payload == {"devices_removed": 1, "sessions_ended": 1}


def test_a_booking_agent_may_not_reset_and_nobody_resets_their_own(
    booking_agent, senior_manager, insurer_user
):
    enrol(insurer_user)
    with pytest.raises(PermissionDenied):
        user_two_factor_reset(user=insurer_user, actor=act(booking_agent))
    with pytest.raises(PermissionDenied) as own:
        user_two_factor_reset(user=senior_manager, actor=act(senior_manager))
    assert own.value.code == "two_factor_reset_own"
    assert TOTPDevice.objects.filter(user=insurer_user).exists()
    assert AuditEvent.objects.filter(action="two_factor.reset").count() == 0


def _admin(*, roles):
    admin = factories.make_user(roles=roles, username=f"admin-{'-'.join(roles) or 'none'}")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin


def test_the_admin_action_resets_for_a_holder_of_the_capability_only(client, insurer_user):
    enrol(insurer_user)
    changelist = "/admin/accounts/user/"
    action = {"action": "two_factor_reset", "_selected_action": [insurer_user.pk]}

    client.force_login(_admin(roles=[]))  # a superuser without the role
    assert "two_factor_reset" not in client.get(changelist).content.decode()
    client.post(changelist, action)
    assert TOTPDevice.objects.filter(user=insurer_user).exists()

    director = _admin(roles=[RoleCode.DIRECTOR_OF_OPERATIONS])
    client.force_login(director)
    page = client.get(changelist).content.decode()
    assert "two_factor_reset" in page and "Two-step sign-in" in page
    response = client.post(changelist, action, follow=True)
    assert "Second factor reset, sessions ended: insurer." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=insurer_user).exists()
    assert _audited("two_factor.reset", insurer_user)[0].actor == director


def test_requiring_it_in_the_admin_goes_through_the_audited_use_case(client, insurer_user):
    client.force_login(_admin(roles=[]))
    organisation = insurer_user.organisation
    response = client.post(
        f"/admin/accounts/organisation/{organisation.pk}/change/",
        {
            "name": organisation.name,
            "kind": OrganisationKind.INSURER,
            "is_active": "on",
            "correspondence_language": "en",
            "require_two_factor": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Organisation.objects.get(pk=organisation.pk).require_two_factor
    assert AuditEvent.objects.filter(action="organisation.two_factor_required_set").count() == 1


def test_django_otps_own_device_pages_are_not_in_the_admin(db, client):
    client.force_login(_admin(roles=[]))
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


# --- The sign-in's note -----------------------------------------------------------------


def test_each_sign_in_notes_whether_its_session_owes_a_second_factor(
    client, settings, insurer_user, booking_agent
):
    client.force_login(insurer_user)
    assert client.session[SESSION_OWED] is False
    enrol(insurer_user)
    client.force_login(insurer_user)
    assert client.session[SESSION_OWED] is True

    settings.MEDWORKS_STAFF_REQUIRE_2FA = True
    client.force_login(booking_agent)  # no app yet, but must have one
    assert client.session[SESSION_OWED] is True
