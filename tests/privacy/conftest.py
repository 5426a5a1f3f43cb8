"""The people who handle privacy (Capability.PRIVACY), and two patients' cases."""

from __future__ import annotations

import pytest

from medworks.accounts.models import RoleCode
from tests import factories


@pytest.fixture
def chief(db):
    return factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF], username="chief")


@pytest.fixture
def director(db):
    return factories.make_user(roles=[RoleCode.DIRECTOR_OF_OPERATIONS], username="director")


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo")
