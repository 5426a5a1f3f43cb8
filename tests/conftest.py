"""Personas and shared fixtures. Tests read like a specification: who does what, what follows."""

from __future__ import annotations

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode

from . import factories


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only (real row-lock races) run in the PostgreSQL pass of CI only.

    They are deselected, not skipped, on SQLite: SQLite serialises every writer, so there is
    no race to test there, and CI runs the whole suite on PostgreSQL too.
    """
    from django.db import connection

    # pytest-django (tryfirst) has put transactional tests after the others. Among them, run
    # the serialized-rollback ones (browser) first: a plain transactional test's flush
    # re-creates content types with new ids, on which a later serialized restore collides
    # (PostgreSQL). Plain transactional tests get their seed back from the fixture below.
    items.sort(key=_plain_transactional)
    if connection.vendor == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def _plain_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("serialized_rollback"):
        return False
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    fixtures = getattr(item, "fixturenames", ())
    return bool(transactional or "transactional_db" in fixtures or "live_server" in fixtures)


@pytest.fixture(autouse=True)
def _seed_data_in_transactional_tests(request):
    """Transactional tests (transaction=True) start from a flushed database, without the
    roles, operator and service catalogue that data migrations seed: put them back (the seed
    functions are idempotent). Browser and serialized-rollback tests restore their own."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")) or marker.kwargs.get(
        "serialized_rollback"
    ):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module in (
        "medworks.accounts.migrations.0002_seed_roles",
        "medworks.network.migrations.0002_seed_service_catalogue",
        "medworks.billing.migrations.0002_seed_tax_rates",
    ):
        importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _each_test_starts_in_english():
    """A request in French leaves French active in the thread (LocaleMiddleware activates and
    never restores): each test starts, and ends, in the site's default language."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas are made per test; the production hasher's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_sign_in_without_a_second_factor(settings):
    """Personas sign in with `force_login` or the login form, staff included: the second factor
    staff must give (MEDWORKS_STAFF_REQUIRE_2FA, on by default) is not what they test. The
    tests of two-step sign-in turn it on again (tests/accounts/test_two_factor.py,
    tests/web/test_two_factor_pages.py, tests/browser/test_two_factor.py); a person with an
    app set up is asked for its code whatever this says."""
    settings.MEDWORKS_STAFF_REQUIRE_2FA = False


@pytest.fixture
def booking_agent(db):
    return factories.make_user(roles=[RoleCode.BOOKING_AGENT], username="agent")


@pytest.fixture
def coordinator(db):
    return factories.make_user(roles=[RoleCode.BOOKING_COORDINATOR], username="coordinator")


@pytest.fixture
def finance_user(db):
    return factories.make_user(roles=[RoleCode.FINANCE], username="finance")


@pytest.fixture
def insurer_user(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org, username="insurer")


@pytest.fixture
def clinic_user(db):
    org = factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Harbour Clinic")
    return factories.make_user(roles=[RoleCode.CLINIC_USER], organisation=org, username="clinic")


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role in any organisation."""
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Nobody Inc")
    return factories.make_user(roles=[], organisation=org, username="outsider")


@pytest.fixture
def clinic_near_patient(db):
    """An affiliate offering an X-ray at the factories' patient's postal code (Toronto), so
    taking a case leaves it sourcing instead of escalating it for want of a clinic."""
    from tests import factories

    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY")
    return location


@pytest.fixture
def manager(db):
    """A clinic manager: management, who take escalated cases (SOP)."""
    from medworks.accounts.models import RoleCode
    from tests import factories

    return factories.make_user(
        roles=[RoleCode.CLINIC_MANAGER], username="manager", email="clinic.manager@medworks.test"
    )
