"""`make demo` loads a network worth looking at and a login for every role."""

from django.contrib.auth import authenticate
from django.core.management import call_command

from medworks.accounts.models import RoleCode, User
from medworks.demo.seeding import DEMO_PASSWORD, demo_seed
from medworks.network.models import GeoPrecision, Location


def test_the_demo_loads_300_located_clinics_and_a_login_for_every_role(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out

    locations = Location.objects.all()
    assert locations.count() >= 300
    assert locations.exclude(geo_precision=GeoPrecision.POSTAL_CODE).count() == 0
    assert set(locations.values_list("province", flat=True)) >= {
        "ON", "QC", "BC", "AB", "MB", "SK", "NS", "NB", "NL", "PE",
    }  # fmt: skip
    for role in RoleCode:
        holder = User.objects.get(roles__code=role)
        assert holder.username in out
        assert authenticate(username=holder.username, password=DEMO_PASSWORD) == holder
    assert DEMO_PASSWORD in out
    # The logins are the last lines, after the address to open.
    last = out.strip().splitlines()
    assert last[-len(RoleCode) - 1].startswith("Open http://")
    assert all(line.startswith("  ") for line in last[-len(RoleCode) :])


def test_loading_the_demo_twice_changes_nothing(db):
    demo_seed()
    users = User.objects.count()
    report, _ = demo_seed()
    assert report.locations_created == report.locations_updated == 0
    assert report.offerings_created == report.offerings_updated == 0
    assert User.objects.count() == users


def test_the_demo_is_never_loaded_in_production(db, settings, capsys):
    import pytest
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never loaded in production"):
        call_command("seed_demo")
    assert Location.objects.count() == 0


def test_the_demo_has_booking_requests_in_several_states_made_once(db):
    from medworks.bookings.models import BookingRequest, BookingStatus

    demo_seed()
    demo_seed()

    states = set(BookingRequest.objects.values_list("status", flat=True))
    assert states == {
        BookingStatus.RECEIVED,
        BookingStatus.SOURCING,
        BookingStatus.ESCALATED,
        BookingStatus.AWAITING_AVAILABILITY,
        BookingStatus.DATES_OFFERED,
        BookingStatus.BOOKED,
        BookingStatus.READY_FOR_BILLING,
    }
    assert BookingRequest.objects.count() == 11
    remote = BookingRequest.objects.get(insurer_reference="DEMO-1008")
    assert remote.status == BookingStatus.ESCALATED
    assert remote.events.get(kind="escalate").actor_kind == "system"


def test_the_demo_has_money_both_ways(db):
    """One provider's invoice waiting for finance, one approved and paid, one insurer invoice
    issued: the payables, invoices and receivables pages are not empty."""
    from medworks.billing.models import Invoice, InvoiceStatus, ProviderInvoice
    from medworks.billing.receivables import unbalanced_journals

    demo_seed()
    demo_seed()

    assert sorted(ProviderInvoice.objects.values_list("status", flat=True)) == [
        "paid",
        "received",
    ]
    # The insurer paid half of it (the reconciliation's discrepancy below).
    assert list(Invoice.objects.values_list("status", flat=True)) == [InvoiceStatus.PARTLY_PAID]
    assert list(unbalanced_journals()) == []


def test_the_demo_has_orders_to_reconcile_one_in_discrepancy(db):
    from medworks.reconciliation.models import Reconciliation, ReconciliationStatus

    demo_seed()
    demo_seed()

    rows = {r.case.insurer_reference: r for r in Reconciliation.objects.select_related("case")}
    assert set(rows) == {"DEMO-1007", "DEMO-1009", "DEMO-1010", "DEMO-1011"}
    partly_paid = rows["DEMO-1010"]
    assert partly_paid.status == ReconciliationStatus.DISCREPANCY
    assert partly_paid.insurer_payment == "discrepancy"
    assert {r.status for ref, r in rows.items() if ref != "DEMO-1010"} == {"open"}


def test_the_demo_has_a_pre_payment_waiting_for_the_ceo_and_a_card_on_file(db):
    from medworks.payments.models import PaymentRequest, StoredCard

    demo_seed()
    demo_seed()

    (request,) = PaymentRequest.objects.all()
    assert request.status == "awaiting_approval"
    assert request.reviewed_by.username == "chief"
    assert StoredCard.objects.get().masked == "Visa ending in 1111"


def test_the_demo_prints_the_address_it_serves_and_where_its_emails_go(db, capsys, settings):
    settings.MEDWORKS_BASE_URL = "http://127.0.0.1:8123"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Open http://127.0.0.1:8123/ and sign in" in out
    assert f"Emails are written as files to {settings.EMAIL_FILE_PATH}" in out
