"""The API against its own OpenAPI schema, fuzzed by Schemathesis as an insurer's system.

The schema is read from the app (/api/v1/openapi.json through the WSGI application, no
server), and every operation is called with generated requests, a bounded number of each
(Hypothesis: 15 examples, derandomized, so a run is the same on every machine), with Maple
Assist's real API key, on a real case of Maple Assist with dates offered and a document.

Each answer must be no 5xx, of a documented status and content type, and match its schema.
Schemathesis' own "schema-valid request rejected" check is replaced by a sharper one: a request
the schema calls valid may be refused by a rule the schema cannot state (an unknown postal
code, a file that is no PDF, an Idempotency-Key used before: 422 with that rule's code), never
by the API's own validation (`invalid_input`, `json_invalid`, `form_invalid`), which would
mean the schema says less than the code checks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from medworks.billing.invoices import payment_record
from medworks.documents.services import document_upload
from medworks.wsgi import application
from tests.billing.invoicing import issued_invoice, ready_case
from tests.documents import samples
from tests.factories import act

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

VALIDATION_CODES = {"invalid_input", "json_invalid", "form_invalid"}


@schemathesis.check
def schema_valid_input_passes_validation(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    code = response.json().get("code")
    if code in VALIDATION_CODES:
        raise AssertionError(
            f"A request valid by the schema failed the API's own validation ({code}): "
            f"{response.text}"
        )
    return None


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Called through the WSGI application, each request would close the database connection
    at its end (request_finished -> close_old_connections), and with it the test's transaction
    on PostgreSQL; Django's test client disconnects it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(
    settings,
    tmp_path,
    insurer_key,
    insurer_user,
    offered_case,
    booking_agent,
    finance_user,
    clinic_location,
):
    """Maple Assist's key, its case with dates offered, a form on that case, and an issued
    invoice of another of its cases, partly paid."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    version = document_upload(
        case=offered_case.case,
        kind="insurer_form",
        file=SimpleUploadedFile("form.pdf", samples.pdf()),
        filename="form.pdf",
        actor=act(insurer_user),
    )
    billed = ready_case(
        insurer=insurer_key.organisation, location=clinic_location, agent=booking_agent
    )
    invoice = issued_invoice(case=billed, finance_user=finance_user)
    payment_record(
        insurer=insurer_key.organisation,
        amount=Decimal("50.00"),
        received_on=invoice.issue_date,
        method="eft",
        reference="TRACE-1",
        actor=act(finance_user),
    )
    return {
        "key": insurer_key.secret,
        "case": offered_case.case,
        "version": version,
        "invoice": invoice,
    }


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, world):
    # Requests the schema calls valid are made on the case's own ids (a made-up Order Id is
    # only ever 404); invalid ones keep theirs, to see them refused.
    if case.meta is not None and case.meta.generation.mode.is_positive:
        for name, value in (
            ("order_id", world["case"].order_id),
            ("version_id", world["version"].pk),
            ("number", world["invoice"].display_number),
        ):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    case.call_and_validate(
        headers={"Authorization": f"Bearer {world['key']}"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_input_passes_validation],
    )
