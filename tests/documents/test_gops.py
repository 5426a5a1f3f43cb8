"""Guarantees of payment: issued by the insurer, acknowledged by the clinic, amended as new
versions (every version kept), and closed by staff."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.documents.gops import (
    gop_acknowledge,
    gop_amend,
    gop_issue,
    gop_request,
    gop_set_status,
)
from medworks.documents.models import DocumentKind, Gop, GopStatus
from medworks.documents.selectors import gop_current, gops_for_case
from medworks.documents.services import document_open
from medworks.notifications.models import OutboxMessage
from tests.factories import act

from . import samples

pytestmark = pytest.mark.django_db


def terms(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "authorised_services": ["XRAY"],
        "valid_from": today.isoformat(),
        "valid_to": (today + dt.timedelta(days=30)).isoformat(),
        "max_amount": "450.00",
        "copay_exclusions": "No co-pay.",
        "billing_instructions": "Invoice MedWorks, quoting our reference.",
    }
    data.update(overrides)
    return data


def test_an_insurer_issues_a_gop_whose_terms_default_to_the_case(
    paper_case, insurer_user, clinic_location
):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))

    assert (gop.version, gop.status, gop.supersedes) == (1, GopStatus.ISSUED, None)
    assert gop.insurer_reference == paper_case.insurer_reference
    assert gop.patient_name == "Jean Tremblay"
    assert gop.patient_date_of_birth == dt.date(1980, 4, 12)
    assert gop.policy_number == "POL-778812"
    assert gop.provider == clinic_location
    assert [s.code for s in gop.authorised_services.all()] == ["XRAY"]
    assert gop.max_amount == Decimal("450.00") and gop.currency == "CAD"
    assert gop.created_by == insurer_user
    assert BookingEvent.objects.filter(request=paper_case, kind="gop_issued").exists()


def test_a_gop_with_its_file_stores_the_file_as_the_cases_gop_document(
    paper_case,
    booked_case,  # the clinic reads papers once booked with it (need to know)
    insurer_user,
    clinic_user,
):
    data = samples.pdf("Guarantee of payment")
    gop = gop_issue(
        case=paper_case,
        data=terms(),
        actor=act(insurer_user),
        file=io.BytesIO(data),
        filename="gop.pdf",
    )
    assert gop.document.kind == DocumentKind.GOP
    assert document_open(version=gop.document.current, actor=act(clinic_user))[0] == data


def test_issuing_a_gop_tells_the_clinic_once(paper_case, insurer_user):
    OutboxMessage.objects.all().delete()
    gop_issue(
        case=paper_case,
        data=terms(),
        actor=act(insurer_user),
        file=io.BytesIO(samples.pdf()),
        filename="gop.pdf",
    )
    (message,) = OutboxMessage.objects.filter(template="clinic_paperwork")
    assert "guarantee of payment" in message.body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"authorised_services": ["MRI"]}, "authorised_services"),
        ({"authorised_services": []}, "authorised_services"),
        ({"valid_to": "2000-01-01"}, "valid_to"),
        ({"valid_from": "not a date"}, "valid_from"),
        ({"max_amount": "-1.00"}, "max_amount"),
        ({"max_amount": 450.0}, "max_amount"),
        ({"max_amount": "lots"}, "max_amount"),
        ({"max_amount": None}, "max_amount"),
        ({"currency": "USD"}, "currency"),
        ({"provider": 999999}, "provider"),
        ({"maximum": "450"}, "maximum"),
    ],
    ids=[
        "service-not-of-the-case",
        "no-service",
        "ends-before-it-starts",
        "bad-date",
        "negative",
        "float",
        "not-an-amount",
        "no-amount",
        "not-cad",
        "unknown-provider",
        "unknown-field",
    ],
)
def test_bad_gop_terms_are_refused_field_by_field(paper_case, insurer_user, overrides, field):
    with pytest.raises(DomainError) as caught:
        gop_issue(case=paper_case, data=terms(**overrides), actor=act(insurer_user))
    assert caught.value.code == "gop_invalid"
    assert field in caught.value.fields
    assert not Gop.objects.exists()


def test_a_zero_maximum_and_a_one_day_validity_are_allowed(paper_case, insurer_user):
    today = timezone.localdate().isoformat()
    gop = gop_issue(
        case=paper_case,
        data=terms(max_amount=0, valid_from=today, valid_to=today),
        actor=act(insurer_user),
    )
    assert gop.max_amount == Decimal("0.00")


def test_a_second_issue_is_refused_amend_instead(paper_case, insurer_user):
    gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    with pytest.raises(DomainError) as caught:
        gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    assert caught.value.code == "gop_exists"
    assert "amend it instead" in caught.value.message


def test_a_gop_medworks_requested_is_filled_in_when_the_insurer_issues_it(
    paper_case, booking_agent, insurer_user
):
    requested = gop_request(case=paper_case, actor=act(booking_agent), note="Asked by phone.")
    assert requested.status == GopStatus.REQUESTED
    issued = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    assert issued.pk == requested.pk
    assert issued.status == GopStatus.ISSUED
    assert Gop.objects.count() == 1


def test_who_may_issue_a_gop(paper_case, clinic_user, other_insurer_user, booking_agent):
    with pytest.raises(PermissionDenied):
        gop_issue(case=paper_case, data=terms(), actor=act(clinic_user))
    with pytest.raises(NotFound):
        gop_issue(case=paper_case, data=terms(), actor=act(other_insurer_user))
    assert gop_issue(case=paper_case, data=terms(), actor=act(booking_agent)).version == 1


# --- amendments -------------------------------------------------------------------------------


def test_an_amendment_is_a_new_version_and_the_old_one_is_kept_as_amended(paper_case, insurer_user):
    first = gop_issue(
        case=paper_case,
        data=terms(),
        actor=act(insurer_user),
        file=io.BytesIO(samples.pdf("v1")),
        filename="gop.pdf",
    )
    second = gop_amend(
        gop=first,
        data={"max_amount": "900.00", "authorised_services": ["XRAY", "ULTRASOUND"]},
        actor=act(insurer_user),
        file=io.BytesIO(samples.pdf("v2")),
        filename="gop amended.pdf",
    )

    first.refresh_from_db()
    assert first.status == GopStatus.AMENDED
    assert first.max_amount == Decimal("450.00")  # the old terms are never rewritten
    assert [s.code for s in first.authorised_services.all()] == ["XRAY"]
    assert (second.version, second.status, second.supersedes) == (2, GopStatus.ISSUED, first)
    assert second.max_amount == Decimal("900.00")
    assert second.valid_to == first.valid_to  # what was not amended carries over
    assert sorted(s.code for s in second.authorised_services.all()) == ["ULTRASOUND", "XRAY"]
    assert second.document == first.document  # the amended file is the document's version 2
    assert [v.number for v in second.document.versions.order_by("number")] == [1, 2]
    assert gop_current(case=paper_case) == second
    assert [g.version for g in gops_for_case(case=paper_case, user=insurer_user)] == [2, 1]


def test_only_the_standing_version_can_be_amended(paper_case, insurer_user):
    first = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    gop_amend(gop=first, data={"max_amount": "500"}, actor=act(insurer_user))
    with pytest.raises(DomainError) as caught:
        gop_amend(gop=first, data={"max_amount": "600"}, actor=act(insurer_user))
    assert caught.value.code == "gop_status_illegal"
    assert "it is amended" in caught.value.message
    assert Gop.objects.count() == 2


def test_a_service_rendered_gop_can_be_amended_for_an_over_limit_bill(
    paper_case, insurer_user, booking_agent
):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    gop_set_status(gop=gop, status=GopStatus.SERVICE_RENDERED, actor=act(booking_agent))
    amended = gop_amend(gop=gop, data={"max_amount": "520.00"}, actor=act(insurer_user))
    assert amended.version == 2 and amended.max_amount == Decimal("520.00")


def test_a_clinic_cannot_amend_a_gop(paper_case, insurer_user, clinic_user):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    with pytest.raises(PermissionDenied):
        gop_amend(gop=gop, data={"max_amount": "1"}, actor=act(clinic_user))


# --- acknowledgement and statuses ----------------------------------------------------------


def test_the_clinic_acknowledges_the_gop(paper_case, insurer_user, clinic_user):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    acknowledged = gop_acknowledge(gop=gop, actor=act(clinic_user))
    assert acknowledged.status == GopStatus.ACKNOWLEDGED
    event = BookingEvent.objects.get(kind="gop_acknowledged")
    assert event.actor == clinic_user
    assert (event.payload["from"], event.payload["to"]) == ("issued", "acknowledged")

    with pytest.raises(DomainError) as caught:
        gop_acknowledge(gop=gop, actor=act(clinic_user))
    assert "it is acknowledged by the clinic" in caught.value.message


def test_only_the_cases_clinic_acknowledges(paper_case, insurer_user, other_clinic_user, outsider):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    with pytest.raises(PermissionDenied):
        gop_acknowledge(gop=gop, actor=act(insurer_user))
    for stranger in (other_clinic_user, outsider):
        with pytest.raises(NotFound):
            gop_acknowledge(gop=gop, actor=act(stranger))
    gop.refresh_from_db()
    assert gop.status == GopStatus.ISSUED


def test_staff_record_service_rendered_expired_or_cancelled_by_legal_moves_only(
    paper_case, insurer_user, booking_agent
):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    gop_set_status(gop=gop, status="service_rendered", actor=act(booking_agent))
    with pytest.raises(DomainError) as caught:
        gop_set_status(gop=gop, status="cancelled", actor=act(booking_agent), note="x")
    assert caught.value.code == "gop_status_illegal"
    assert "it is service rendered" in caught.value.message
    with pytest.raises(DomainError):
        gop_set_status(gop=gop, status="issued", actor=act(booking_agent))
    gop.refresh_from_db()
    assert gop.status == GopStatus.SERVICE_RENDERED


def test_a_cancelled_gop_lets_the_insurer_issue_a_new_one(paper_case, insurer_user, booking_agent):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    gop_set_status(gop=gop, status="cancelled", actor=act(booking_agent), note="Wrong policy.")
    again = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    assert again.version == 2 and again.supersedes is None
    assert BookingEvent.objects.get(kind="gop_cancelled").note == "Wrong policy."


def test_insurers_and_clinics_do_not_set_gop_statuses(paper_case, insurer_user, clinic_user):
    gop = gop_issue(case=paper_case, data=terms(), actor=act(insurer_user))
    for user in (insurer_user, clinic_user):
        with pytest.raises(PermissionDenied):
            gop_set_status(gop=gop, status="expired", actor=act(user))
