"""Onboarding through the Django admin: a superuser adds an insurer's user with its role."""

from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
from medworks.accounts.permissions import Capability, user_can


def test_a_superuser_onboards_an_insurer_user_who_can_then_use_the_portal(db, client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    insurer = Organisation.objects.create(name="Northern Star", kind=OrganisationKind.INSURER)
    role = Role.objects.get(code=RoleCode.INSURER_USER)
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "nadia",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
            "usable_password": "true",
            "organisation": insurer.pk,
            "roles": [role.pk],
            "email": "nadia@northernstar.example",
            "first_name": "Nadia",
            "last_name": "Star",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    nadia = User.objects.get(username="nadia")
    assert nadia.organisation == insurer
    assert user_can(nadia, Capability.BOOKING_SUBMIT)
    assert not user_can(nadia, Capability.BACK_OFFICE)


def test_roles_cannot_be_edited_in_the_admin(db, client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    assert client.get("/admin/accounts/role/add/").status_code == 403


def test_patient_and_booking_data_are_not_in_the_admin(db, client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    assert client.get("/admin/bookings/patient/").status_code == 404
    assert client.get("/admin/documents/documentversion/").status_code == 404
