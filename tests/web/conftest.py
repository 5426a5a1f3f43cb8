"""A small directory every web test can point at: one partner, one location, one priced service."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests import factories

# The paperwork pages' world (tests/web/documents_world.py), for the test_documents_* modules.
from .documents_world import (  # noqa: F401
    booked_case,
    clinic_location,
    document_store,
    issued_gop,
    other_clinic_user,
    other_insurer_user,
    signed_form,
)


@pytest.fixture
def directory(db):
    partner = factories.make_partner(
        name="Lakeshore Imaging", kind="network", contact_email="desk@lakeshore.example"
    )
    location = factories.make_location(
        partner=partner,
        name="Lakeshore Imaging King West",
        address="500 King St W",
        city="Toronto",
        phone="416-555-0100",
        languages="English, French",
    )
    offering = factories.make_offering(location=location, service_code="XRAY", price="1250.00")
    return SimpleNamespace(partner=partner, location=location, offering=offering)
