"""Benchmark: the SOP reconciliation table, its CSV export and the management dashboard, with
100,000 booked cases (issue 12's speed targets).

    DATABASE_URL=postgres://USER@HOST:5432/DB .venv/bin/python bench/bench_reconciliation.py
    .venv/bin/python bench/bench_reconciliation.py [--cases 100000] [--invoices 20000]
        [--renders 30] [--explain] [--keep]

Works in a fresh database: SQLite in a temp MEDWORKS_DATA_DIR by default; when DATABASE_URL is
set, a separate PostgreSQL database `medworks_bench_reconciliation` on that server, created and
dropped by this script (never DB's own data; `--keep` leaves it, and the temp dir, in place).

Seeds, with bulk_create in chunks of 5,000, each row shaped as the services write it:
`--cases` booked cases over the last two years, of 5 insurers (bench_receivables' insurers:
4 in Ontario, HST; 1 in Quebec, GST + QST), at 200 clinic locations of 150 providers: the
Patient, the BookingRequest (created then; mostly closed, ready for billing or completed, the
recent ones booked, a few no-shows), its services (the M2M), its standing Quote (confirmed;
QuoteLine per service, QuoteTax per tax), its BookingEvents "approve_date" (a second one for
5%: rescheduled) and "escalate" (8%, before booking), and its reconciliation.Reconciliation row
as `services._snapshot` leaves it (the table's figures from the quote, the location's text,
the services' names, the four checks' states and details; most reconciled by the coordinator,
the rest open or in discrepancy with the amounts). Then 5% more cases still open or cancelled
(received ... dates offered; no reconciliation), so the dashboard's states and thresholds have
rows. Then `--invoices` (default 20,000, fewer than the cases: say so) issued invoices of the
closed and ready-for-billing cases of the last 13 months, with bench_receivables' Seeder (the
invoice, its lines at the quote's prices and linked to the quote, taxes, the journal and
ledger, payments and allocations). Not written: appointments, offers and slots
(`Reconciliation.appointment_at` is set directly: the table reads the snapshot, never the
appointments), audit and outbox rows, providers' invoices (the dashboard's payables are 0).

Then measures, after 3 warm-ups each, p50/p95 over `--renders` renders through Django's test
Client (the whole stack: middleware, session, view, template), signed in as the booking
coordinator for the table and as finance for the dashboard:

1. /staff/reconciliation/: the first page; filtered by one insurer, by one provider, by one
   month's order dates, by status=discrepancy; and a deep page (the `after` cursor followed
   50 pages down). Target p95 <= 300 ms. Also the selector alone (`table_page`).
2. The CSV export of every row, in a child process: `medworks export-reconciliation --from
   --to --format csv -o FILE` (the command a person runs), and a `python -c` driver calling
   `exports.export_csv` (the function the page streams). Wall time measured around the
   child; peak memory is the child's own maximum resident set size as the kernel counts it,
   taken by GNU time (`/usr/bin/time -f %M`, KiB): the whole process, interpreter and Django
   included (not this process's wait4/RUSAGE_CHILDREN: an exec'd child of a big process
   starts its ru_maxrss at the parent's RSS). Also the floor (a process that only loads
   Django and the export code) and, as a diagnostic, the driver with the access log's
   INSERTs stubbed out. The file's rows (must equal the booked cases) and size. Then the page's
   streaming export through the test client in this process (its `streaming_content`
   consumed), its wall time and this process's peak RSS growth over it (VmHWM reset through
   /proc/self/clear_refs when allowed). Targets: <= 15 s and <= 250 MB.
3. /staff/dashboard/ (and `dashboard.dashboard()` alone). Target p95 <= 500 ms.

Prints each figure with the SQL queries per render and their time, a table with PASS/MISS per
target, the machine and the method. `--explain` (PostgreSQL) prints EXPLAIN ANALYZE of the
slowest statements of each page.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import gc
import logging
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import cpu_model, pg_admin, with_database
from bench_receivables import INSURERS, SERVICES, SqlCapture, explain, money
from bench_receivables import Seeder as ReceivablesSeeder
from bench_work_queue import QueryTimer, percentile

BENCH_DB = "medworks_bench_reconciliation"
PAGE_TARGET_MS = 300
DASHBOARD_TARGET_MS = 500
EXPORT_TARGET_S = 15
EXPORT_TARGET_MB = 250
CHUNK = 5000
DEEP_PAGES = 50
ROW_MARKER = b'data-testid="reconciliation-row"'
NEXT_LINK = re.compile(r'href="\?([^"]*)" data-testid="next-page"')
PARTNERS = 150
LOCATIONS = 200
INSURER_WEIGHTS = [0.34, 0.24, 0.18, 0.14, 0.10]
SERVICE_MIXES = [("XRAY",), ("XRAY",), ("ULTRASOUND",), ("XRAY", "BLOOD"), ("MRI",), ("BLOOD",)]
CITIES = [
    ("Toronto", "ON", "M5V 3L9"),
    ("Ottawa", "ON", "K1P 5J2"),
    ("Hamilton", "ON", "L8P 4R5"),
    ("London", "ON", "N6A 3K7"),
    ("Mississauga", "ON", "L5B 3C2"),
    ("Montréal", "QC", "H3B 2Y5"),
    ("Québec", "QC", "G1R 4S9"),
    ("Laval", "QC", "H7N 5H9"),
]
ARRANGEMENTS = ["direct_billing"] * 7 + ["credit_card", "eft", "insurer_card"]


@contextlib.contextmanager
def dates_as_given(*fields):
    """auto_now/auto_now_add off for these fields: bulk_create writes the dates seeded."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


class InvoiceSeeder(ReceivablesSeeder):
    """bench_receivables' invoices and payments, billing this benchmark's cases (one invoice
    per case, its lines the case's services at the quote's prices) instead of new ones."""

    billable: list[dict]

    def plan(self, count: int) -> list[dict]:
        rng, today = self.rng, self.today
        chosen = sorted(
            rng.sample(self.billable, min(count, len(self.billable))), key=lambda b: b["issue"]
        )
        plans = []
        for b in chosen:
            issue = b["issue"]
            due = issue + dt.timedelta(days=30)
            r = rng.random()
            if due >= today:
                state = "issued" if r < 0.70 else "partly_paid" if r < 0.85 else "paid"
            else:
                state = "paid" if r < 0.88 else "overdue" if r < 0.97 else "overdue_part"
            paid_on = min(today, issue + dt.timedelta(days=rng.randint(3, 75)))
            if state in ("partly_paid", "overdue_part"):
                paid_on = min(today, issue + dt.timedelta(days=rng.randint(3, 25)))
            plans.append(
                {
                    "insurer": b["insurer"],
                    "issue": issue,
                    "due": due,
                    "services": b["services"],
                    "state": state,
                    "paid_on": paid_on,
                    "minute": rng.randint(8 * 60, 17 * 60),
                    "case": b["case"],
                }
            )
        return plans

    def cases(self, plans: list[dict]) -> list:
        return [p["case"] for p in plans]


class CaseSeeder:
    """The booked cases with their quotes, events and reconciliations, a chunk at a time."""

    def __init__(self, *, rng: random.Random, today: dt.date, insurers: list) -> None:
        from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
        from medworks.network.models import AffiliatePartner, Location, Service
        from medworks.network.text import name_key

        self.rng, self.today, self.insurers = rng, today, insurers
        operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR)
        self.users = {}
        for username, role in [
            ("coordinator", RoleCode.BOOKING_COORDINATOR),
            ("ceo", RoleCode.CEO),
            ("agent", RoleCode.BOOKING_AGENT),
        ]:
            user = User.objects.create_user(
                username=username, password="bench-password", organisation=operator
            )
            user.roles.add(Role.objects.get(code=role))
            self.users[username] = user
        partners = AffiliatePartner.objects.bulk_create(
            AffiliatePartner(
                name=f"Bench Clinic {i:03d}",
                name_key=name_key(f"Bench Clinic {i:03d}"),
                kind="network" if i % 10 == 0 else "individual",
                billing_arrangements=[ARRANGEMENTS[i % len(ARRANGEMENTS)]],
                accepts_prepayment=ARRANGEMENTS[i % len(ARRANGEMENTS)] != "direct_billing",
            )
            for i in range(PARTNERS)
        )
        locations = []
        for i in range(LOCATIONS):
            city, province, postal = CITIES[i % len(CITIES)]
            partner = partners[i % PARTNERS]
            locations.append(
                Location(
                    partner=partner,
                    name=f"{partner.name} {city}",
                    name_key=name_key(f"{partner.name} {city}"),
                    address=f"{100 + i} King Street",
                    city=city,
                    province=province,
                    postal_code=postal,
                )
            )
        self.locations = Location.objects.bulk_create(locations)
        self.services = {s.code: s for s in Service.objects.filter(code__in=SERVICES)}
        self.order_seq: dict[int, int] = {}
        self.counts: dict[str, int] = {}
        self.billable: list[dict] = []  # for the invoices
        self.case_seq = 0

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        from django.utils import timezone

        return dt.datetime.combine(
            day, dt.time(minute // 60, minute % 60), tzinfo=timezone.get_current_timezone()
        )

    def order_id(self, year: int) -> str:
        self.order_seq[year] = self.order_seq.get(year, 0) + 1
        return f"MW-{year}-{self.order_seq[year]:06d}"

    def plan(self, booked: int, other: int) -> list[dict]:
        """Each case's day, insurer, clinic, services and state, oldest first."""
        rng, today = self.rng, self.today
        plans = []
        for _ in range(booked):
            back = rng.randrange(0, 730)
            if back < 14:
                status = rng.choice(["booked"] * 3 + ["completed"] * 2)
            elif back < 60:
                r = rng.random()
                status = (
                    "ready_for_billing"
                    if r < 0.40
                    else "closed"
                    if r < 0.75
                    else "completed"
                    if r < 0.95
                    else "no_show"
                )
            else:
                r = rng.random()
                status = (
                    "closed"
                    if r < 0.85
                    else "ready_for_billing"
                    if r < 0.93
                    else "completed"
                    if r < 0.97
                    else "no_show"
                )
            plans.append({"back": back, "status": status})
        open_states = ["received", "sourcing", "escalated", "awaiting_availability"]
        open_states += ["dates_offered", "cancelled"]
        for _ in range(other):
            status = rng.choice(open_states)
            back = rng.randrange(0, 730) if status == "cancelled" else rng.randrange(0, 20)
            plans.append({"back": back, "status": status})
        plans.sort(key=lambda p: -p["back"])
        for p in plans:
            p["day"] = today - dt.timedelta(days=p["back"])
            p["minute"] = rng.randint(8 * 60, 17 * 60 - 1)
            p["insurer"] = rng.choices(range(len(self.insurers)), INSURER_WEIGHTS)[0]
            p["location"] = rng.randrange(len(self.locations))
            p["services"] = rng.choice(SERVICE_MIXES)
        return plans

    def chunk(self, plans: list[dict]) -> None:
        from django.utils import timezone

        from medworks.billing.models import Quote, QuoteLine, QuoteTax
        from medworks.bookings.models import BookingEvent, BookingRequest, Patient

        rng = self.rng
        now = timezone.now()
        through = BookingRequest.services.through
        patients = Patient.objects.bulk_create(
            Patient(
                insurer=self.insurers[p["insurer"]][0],
                first_name=rng.choice(["Anna", "Marc", "Li", "Sofia", "Jean", "Priya", "Omar"]),
                last_name=f"Patient{self.case_seq + i}",
                date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                address=f"{i} Main Street",
                city="Toronto",
                province="ON",
                postal_code="M5V 3L9",
            )
            for i, p in enumerate(plans)
        )
        booked_states = {"booked", "completed", "ready_for_billing", "closed", "no_show"}
        cases = []
        for i, (p, patient) in enumerate(zip(plans, patients, strict=True)):
            created = self.at(p["day"], p["minute"])
            p["created"] = created
            p["booked"] = p["status"] in booked_states
            p["escalated"] = rng.random() < (1.0 if p["status"] == "escalated" else 0.08)
            if p["booked"]:
                p["approved"] = created + dt.timedelta(hours=rng.uniform(4, 120))
                p["appointment"] = self.at(
                    (p["approved"] + dt.timedelta(days=rng.randint(2, 14))).date(),
                    rng.randint(8, 16) * 60 + rng.choice([0, 30]),
                )
                changed = {
                    "booked": p["approved"],
                    "completed": p["appointment"] + dt.timedelta(hours=2),
                    "no_show": p["appointment"] + dt.timedelta(hours=2),
                    "ready_for_billing": p["appointment"] + dt.timedelta(days=3),
                    "closed": p["appointment"] + dt.timedelta(days=rng.randint(20, 50)),
                }[p["status"]]
            else:
                changed = created + dt.timedelta(hours=rng.uniform(0.1, 24 * 6))
            changed = min(changed, now - dt.timedelta(minutes=1))
            location = self.locations[p["location"]]
            cases.append(
                BookingRequest(
                    order_id=self.order_id(created.year),
                    insurer_id=patient.insurer_id,
                    insurer_reference=f"CLM-{self.case_seq + i:07d}",
                    insurer_contact_name="Claims desk",
                    insurer_contact_email="claims@insurer.example",
                    patient=patient,
                    channel=rng.choice(["portal", "portal", "api", "email"]),
                    status=p["status"],
                    status_changed_at=changed,
                    urgency=rng.choice(["routine", "routine", "soon", "urgent"]),
                    owner=self.users["agent"],
                    location=location if p["booked"] or p["status"] == "dates_offered" else None,
                    created_at=created,
                    updated_at=changed,
                )
            )
            self.count(p["status"])
        BookingRequest.objects.bulk_create(cases)
        self.case_seq += len(plans)
        through.objects.bulk_create(
            through(bookingrequest_id=case.pk, service_id=self.services[code].pk)
            for p, case in zip(plans, cases, strict=True)
            for code in p["services"]
        )
        events = []
        for p, case in zip(plans, cases, strict=True):
            if p["escalated"]:
                events.append(
                    BookingEvent(
                        request=case,
                        occurred_at=p["created"] + dt.timedelta(minutes=rng.randint(10, 300)),
                        actor=self.users["agent"],
                        actor_kind="user",
                        kind="escalate",
                        from_status="sourcing",
                        to_status="escalated",
                        note="No affiliate within the service area.",
                    )
                )
                self.count("escalate events")
            if p["booked"]:
                approvals = [p["approved"]]
                if rng.random() < 0.05:  # rescheduled: approved again, later
                    approvals.append(p["approved"] + dt.timedelta(days=rng.randint(1, 5)))
                for when in approvals:
                    events.append(
                        BookingEvent(
                            request=case,
                            occurred_at=when,
                            actor_kind="signed_link",
                            actor_detail="approve_date",
                            kind="approve_date",
                            from_status="dates_offered",
                            to_status="booked",
                        )
                    )
                    self.count("approve_date events")
        BookingEvent.objects.bulk_create(events)

        booked = [(p, case) for p, case in zip(plans, cases, strict=True) if p["booked"]]
        quotes, lines, taxes = [], [], []
        for p, case in booked:
            _org, place, _language, rates = self.insurers[p["insurer"]]
            amounts = [money(SERVICES[code]) for code in p["services"]]
            clinic = [money(a * Decimal("0.80")) for a in amounts]
            subtotal = sum(amounts, Decimal("0.00"))
            tax_rows = [(name, rate, money(subtotal * rate)) for name, rate in rates]
            tax = sum((t[2] for t in tax_rows), Decimal("0.00"))
            location = self.locations[p["location"]]
            quoted = p["created"] + dt.timedelta(hours=1)
            quote = Quote(
                case=case,
                version=1,
                status="confirmed",
                status_changed_at=quoted + dt.timedelta(hours=2),
                location=location,
                tax_point=quoted.date(),
                place_of_supply=place,
                rule="Bench: 20% MedWorks fee; " + ", ".join(f"{n} {r}" for n, r, _a in tax_rows),
                clinic_cost=sum(clinic, Decimal("0.00")),
                medworks_fee=subtotal - sum(clinic, Decimal("0.00")),
                subtotal=subtotal,
                total=subtotal + tax,
                created_at=quoted,
                confirmed_by_party="insurer",
                confirmed_by_detail="portal",
                confirmed_at=quoted + dt.timedelta(hours=2),
                confirmed_total=subtotal + tax,
            )
            quotes.append(quote)
            p.update(amounts=amounts, clinic=clinic, subtotal=subtotal, tax=tax, taxes=tax_rows)
        Quote.objects.bulk_create(quotes)
        for (p, _case), quote in zip(booked, quotes, strict=True):
            for position, (code, amount, clinic) in enumerate(
                zip(p["services"], p["amounts"], p["clinic"], strict=True)
            ):
                lines.append(
                    QuoteLine(
                        quote=quote,
                        position=position,
                        service=self.services[code],
                        cost_source="directory",
                        clinic_cost=clinic,
                        medworks_fee=amount - clinic,
                        amount=amount,
                    )
                )
            for position, (name, rate, amount) in enumerate(p["taxes"]):
                taxes.append(
                    QuoteTax(quote=quote, position=position, name=name, rate=rate, amount=amount)
                )
        QuoteLine.objects.bulk_create(lines)
        QuoteTax.objects.bulk_create(taxes)
        self.reconciliations(booked)

    def reconciliations(self, booked: list[tuple[dict, object]]) -> None:
        from medworks.reconciliation.models import Reconciliation

        rng, coordinator = self.rng, self.users["coordinator"]
        rows = []
        for p, case in booked:
            location = self.locations[p["location"]]
            arrangement = location.partner.billing_arrangements[0]
            prepaid = arrangement != "direct_billing"
            clinic = sum(p["clinic"], Decimal("0.00"))
            r = rng.random()
            if p["status"] == "closed":
                status = "reconciled"
            elif p["status"] == "ready_for_billing":
                status = "open" if r < 0.75 else "discrepancy"
            else:
                status = "open" if r < 0.88 else "discrepancy"
            checks = {
                "order_email": ("met", "Order sent to finance for the quote (version 1).")
                if prepaid
                else ("not_needed", "Direct billing: no order goes to finance."),
                "payment_process": ("met", "Direct billing: the provider's invoice is paid.")
                if not prepaid
                else ("met", "Pre-payment approved by the CEO and paid."),
                "provider_invoice": ("met", "Invoice for the agreed clinic cost."),
                "insurer_payment": ("met", "The insurer's invoice is paid in full."),
            }
            amounts: dict[str, dict] = {}
            accepted = {}
            if status == "open":
                checks["insurer_payment"] = ("missing", "Not invoiced to the insurer yet.")
                if rng.random() < 0.5:
                    checks["provider_invoice"] = ("missing", "No invoice from the provider yet.")
                    checks["payment_process"] = (
                        "missing",
                        "Direct billing: waiting for the provider's invoice.",
                    )
            if status == "discrepancy" or (status == "reconciled" and r < 0.03):
                invoiced = clinic + money(rng.randint(500, 9000) / 100)
                checks["provider_invoice"] = (
                    "discrepancy",
                    f"The provider invoiced {invoiced:.2f}; the agreed clinic cost is "
                    f"{clinic:.2f}.",
                )
                amounts["provider_invoice"] = {
                    "agreed": f"{clinic:.2f}",
                    "invoiced": f"{invoiced:.2f}",
                }
                if status == "reconciled":
                    accepted = {
                        "provider_invoice": {
                            "message": checks["provider_invoice"][1],
                            "amounts": amounts["provider_invoice"],
                        }
                    }
            checked = min(
                p["appointment"] + dt.timedelta(days=rng.randint(3, 30)),
                self.at(self.today, 6 * 60),
            )
            reconciled = status == "reconciled"
            rows.append(
                Reconciliation(
                    case=case,
                    status=status,
                    status_changed_at=checked,
                    month=p["day"].replace(day=1),
                    insurer_id=case.insurer_id,
                    provider_id=location.partner_id,
                    order_date=p["day"],
                    appointment_at=p["appointment"],
                    location=f"{location.name}, {location.address}, {location.city}"[:300],
                    services=", ".join(
                        sorted(self.services[code].name_en for code in p["services"])
                    )[:500],
                    clinic_cost=clinic,
                    medworks_cost=p["subtotal"] - clinic,
                    total_to_bill=p["subtotal"],
                    tax=p["tax"],
                    total_with_tax=p["subtotal"] + p["tax"],
                    payment_method=arrangement,
                    **{name: state for name, (state, _m) in checks.items()},
                    details={
                        name: {"message": message, "amounts": amounts.get(name, {})}
                        for name, (_state, message) in checks.items()
                    },
                    accepted=accepted,
                    checked_at=checked,
                    reconciled_by=coordinator if reconciled else None,
                    reconciled_at=checked if reconciled else None,
                    note="Provider's extra fee agreed by phone." if accepted else "",
                )
            )
            self.count(f"reconciliation {status}")
            if p["status"] in ("closed", "ready_for_billing") and p["back"] < 400:
                issue = min(
                    self.today, p["appointment"].date() + dt.timedelta(days=rng.randint(1, 10))
                )
                self.billable.append(
                    {
                        "case": case,
                        "insurer": p["insurer"],
                        "issue": issue,
                        "services": p["services"],
                    }
                )
        Reconciliation.objects.bulk_create(rows)

    def run(self, booked: int, other: int) -> None:
        from django.db import transaction

        from medworks.bookings.models import BookingRequest, OrderSequence

        plans = self.plan(booked, other)
        fields = [BookingRequest._meta.get_field(n) for n in ("created_at", "updated_at")]
        with dates_as_given(*fields):
            for start in range(0, len(plans), CHUNK):
                with transaction.atomic():
                    self.chunk(plans[start : start + CHUNK])
        OrderSequence.objects.bulk_create(
            OrderSequence(year=year, last=last) for year, last in self.order_seq.items()
        )


def link_invoice_lines_to_quotes() -> int:
    """The lines the invoice seeder wrote name no quote: each is its case's standing quote
    (one per case here), so the dashboard's margin reads the quote lines' fees. Raw SQL: the
    lines are written once (the ORM refuses a bulk update)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoiceline SET quote_id = (SELECT q.id FROM billing_quote q "
            "WHERE q.case_id = billing_invoiceline.case_id) WHERE case_id IS NOT NULL"
        )
        return cursor.rowcount


# --- Measuring --------------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool | None]] = []

    def add(self, label: str, figure: str, target: str, ok: bool | None) -> None:
        self.rows.append((label, figure, target, ok))

    def print(self) -> None:
        print()
        print(f"{'measure':44s} {'figure':34s} {'target':16s} verdict")
        print("-" * 104)
        for label, figure, target, ok in self.rows:
            verdict = "" if ok is None else "PASS" if ok else "MISS"
            print(f"{label:44s} {figure:34s} {target:16s} {verdict}")


def timed(fn, renders: int, warmups: int = 3) -> list[float]:
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(renders):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), percentile(times, 95)


def measure_page(client, connection, label, url, params, marker, *, renders, do_explain):
    """p50/p95 of GET url?params, the rows it shows (`marker` count), its queries."""
    response = None

    def get():
        nonlocal response
        response = client.get(url, params)
        assert response.status_code == 200, (url, params, response.status_code)

    get()
    capture = SqlCapture()
    with connection.execute_wrapper(capture):
        get()
    times = timed(get, renders, warmups=2)
    rows = response.content.count(marker) if marker else 0
    p50, p95 = summary(times)
    print(
        f"{label:40s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({rows} rows, {len(capture)} "
        f"queries taking {sum(capture.times):.1f} ms, {renders} renders)"
    )
    if do_explain:
        explain(connection, capture)
    return p50, p95, response


def peak_rss_kib_reset() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0), so the next reading is the peak since."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


TIME = Path("/usr/bin/time")


def run_child(argv: list[str], env: dict, *, root: Path) -> tuple[float, int, str, int, str]:
    """Run argv; (wall seconds, its peak RSS in KiB, how that was measured, exit status,
    stderr tail).

    The peak is GNU time's %M (`/usr/bin/time`, its wait4 rusage of the command it forks):
    this process cannot take it from its own wait4 nor getrusage(RUSAGE_CHILDREN), because
    Linux starts an exec'd child's ru_maxrss at the RSS of the process it was forked from
    (here the seeded benchmark, some hundreds of MB), so a child of a big process reports at
    least that. Without /usr/bin/time, that upper bound is what is reported (and said)."""
    measured = root / "maxrss.txt"
    wrapped = [str(TIME), "-f", "%M", "-o", str(measured), *argv] if TIME.exists() else argv
    t0 = time.perf_counter()
    child = subprocess.Popen(wrapped, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The child writes little on stderr (not on a terminal: no progress bar): read it once it
    # exits; wait4 for the rusage.
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.stderr.close()
    if TIME.exists():
        lines = measured.read_text().split()
        kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        how = "/usr/bin/time %M"
    else:
        kib, how = usage.ru_maxrss, "wait4 ru_maxrss (upper bound: includes the parent's RSS)"
    return wall, kib, how, child.returncode, err[-2000:]


def csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return sum(1 for _ in csv.reader(f)) - 1  # less the header


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="booked cases (table rows)")
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE (PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medworks-bench-reconciliation-"))
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url:
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["MEDWORKS_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    os.environ["DEBUG"] = "false"  # no query log, no debug toolbar cost: as in production
    # Signed in with the password alone: the page, not the two-step sign-in, is measured.
    os.environ["MEDWORKS_STAFF_REQUIRE_2FA"] = "false"
    src = str(Path(__file__).resolve().parent.parent / "src")
    sys.path.insert(0, src)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()
    results = Results()
    try:
        call_command("migrate", verbosity=0)
        today = timezone.localdate()
        rng = random.Random(args.seed)
        t0 = time.perf_counter()
        invoicer = InvoiceSeeder(rng=rng, today=today)  # finance and the 5 insurers
        seeder = CaseSeeder(rng=rng, today=today, insurers=invoicer.insurers)
        seeder.run(args.cases, args.cases // 20)
        cases_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        invoicer.billable = seeder.billable
        invoicer.run(min(args.invoices, len(seeder.billable)))
        billable = len(seeder.billable)
        linked = link_invoice_lines_to_quotes()
        invoices_s = time.perf_counter() - t0
        # Measure as a fresh server process would run: the seeding's objects freed, what is
        # left frozen out of the collector (else each full GC walks them inside the timings).
        seeder.billable = invoicer.billable = []
        gc.collect()
        gc.freeze()
        # One log line per request (medworks.request) kept out of the printout.
        logging.getLogger("medworks.request").setLevel(logging.WARNING)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        print(
            f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{cpu_model()}; Python {platform.python_version()}; Django {django.__version__}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        connection.ensure_connection()
        version = (
            connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else connection.Database.sqlite_version
        )
        print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
        c = seeder.counts
        states = ", ".join(
            f"{c.get(s, 0)} {s}"
            for s in ["closed", "ready_for_billing", "completed", "booked", "no_show"]
        )
        others = sum(
            c.get(s, 0)
            for s in [
                "received",
                "sourcing",
                "escalated",
                "awaiting_availability",
                "dates_offered",
                "cancelled",
            ]
        )
        recon = ", ".join(
            f"{c.get('reconciliation ' + s, 0)} {s}" for s in ["reconciled", "open", "discrepancy"]
        )
        print(
            f"cases: {args.cases} booked ({states}) + {others} open or cancelled, at "
            f"{LOCATIONS} locations of {PARTNERS} providers, {len(INSURERS)} insurers; "
            f"{c.get('approve_date events', 0)} approve_date and "
            f"{c.get('escalate events', 0)} escalate events; reconciliations: {recon}; "
            f"bulk-created in {cases_s:.1f} s"
        )
        ic = invoicer.counts
        print(
            f"invoices: {args.invoices if args.invoices < billable else billable} "
            f"of {billable} billable cases ({ic['issued']} issued, {ic['partly_paid']} "
            f"partly paid, {ic['paid']} paid, {ic['overdue']} overdue; {ic['payments']} payments, "
            f"{ic['ledger']} ledger rows; {linked} lines linked to their quotes) in "
            f"{invoices_s:.1f} s"
        )

        from medworks.reconciliation import selectors
        from medworks.reconciliation.models import Reconciliation
        from medworks.reconciliation.selectors import TableFilter

        busy_provider = (
            Reconciliation.objects.values("provider_id")
            .annotate(n=django.db.models.Count("pk"))
            .order_by("-n")
            .first()
        )
        month_end = today.replace(day=1) - dt.timedelta(days=1)
        month_start = month_end.replace(day=1)
        insurer = invoicer.insurers[0][0]
        filters = [
            ("first page", TableFilter(), {}),
            (
                f"insurer ({insurer.name})",
                TableFilter(insurer_id=insurer.pk),
                {"insurer": insurer.pk},
            ),
            (
                f"provider (busiest, {busy_provider['n']} rows)",
                TableFilter(provider_id=busy_provider["provider_id"]),
                {"provider": busy_provider["provider_id"]},
            ),
            (
                f"one month ({month_start:%Y-%m})",
                TableFilter(date_from=month_start, date_to=month_end),
                {"date_from": month_start.isoformat(), "date_to": month_end.isoformat()},
            ),
            ("status=discrepancy", TableFilter(status="discrepancy"), {"status": "discrepancy"}),
        ]

        # --- 1. The table: the selector alone --------------------------------------------
        print("\n-- the table, selector alone (reconciliation.selectors.table_page) --")
        cursor = None
        for _ in range(DEEP_PAGES):
            cursor = selectors.table_page(TableFilter(), after=cursor).next_cursor
        for label, where, _params in [*filters, (f"page {DEEP_PAGES + 1}", TableFilter(), None)]:
            after = cursor if label.startswith("page ") else None
            queries = QueryTimer()
            with connection.execute_wrapper(queries):
                page = selectors.table_page(where, after=after)
            times = timed(lambda w=where, a=after: selectors.table_page(w, after=a), args.renders)
            p50, p95 = summary(times)
            print(
                f"{label:40s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({len(page.rows)} rows "
                f"of {page.totals.orders}, {len(queries)} queries)"
            )
            results.add(f"selector: {label}"[:44], f"p50 {p50:.1f} / p95 {p95:.1f} ms", "", None)

        # --- 1. The table: the page ------------------------------------------------------
        client = Client()
        assert client.login(username="coordinator", password="bench-password")
        try:
            table_url = reverse("web:reconciliation_table")
        except NoReverseMatch:
            table_url = None
            print("\n(the page web:reconciliation_table does not exist yet: not measured)")
        if table_url:
            print(f"\n-- the table, {table_url} as the booking coordinator --")
            for label, _where, params in filters:
                _p50, p95, _r = measure_page(
                    client,
                    connection,
                    label,
                    table_url,
                    params,
                    ROW_MARKER,
                    renders=args.renders,
                    do_explain=args.explain,
                )
                results.add(
                    f"page: {label}"[:44],
                    f"p95 {p95:.1f} ms",
                    f"<= {PAGE_TARGET_MS} ms",
                    p95 <= PAGE_TARGET_MS,
                )
            # The deep page: follow the page's own "next" links.
            params: dict = {}
            for _ in range(DEEP_PAGES):
                html = client.get(table_url, params).content.decode()
                found = NEXT_LINK.search(html)
                if not found:
                    break
                params = dict(parse_qsl(unescape(found.group(1))))
            label = f"page {DEEP_PAGES + 1} (after={params.get('after', '?')})"
            _p50, p95, _r = measure_page(
                client,
                connection,
                label,
                table_url,
                params,
                ROW_MARKER,
                renders=args.renders,
                do_explain=args.explain,
            )
            results.add(
                f"page: page {DEEP_PAGES + 1} by cursor",
                f"p95 {p95:.1f} ms",
                f"<= {PAGE_TARGET_MS} ms",
                p95 <= PAGE_TARGET_MS,
            )

        # --- 2. The CSV export -----------------------------------------------------------
        print("\n-- the CSV export of every row, in a child process --")
        first = Reconciliation.objects.order_by("order_date").values_list("order_date", flat=True)[
            0
        ]
        env = dict(os.environ, PYTHONPATH=src)
        medworks_bin = Path(sys.executable).with_name("medworks")
        out = root / "export-command.csv"
        argv = [
            str(medworks_bin),
            "export-reconciliation",
            "--from",
            first.isoformat(),
            "--to",
            today.isoformat(),
            "--format",
            "csv",
            "-o",
            str(out),
            "--as",
            "coordinator",
        ]
        exports = []
        try:
            from medworks.reconciliation import exports as _exports  # noqa: F401

            have_exports = True
        except ImportError:
            have_exports = False
        wall, rss, how, status, err = run_child(argv, env, root=root)
        if status == 0 and out.exists():
            exports.append(("command export-reconciliation", wall, rss, how, out))
        else:
            print(f"(the command failed, status {status}: {err.strip()[-400:]})")
        if have_exports:
            out2 = root / "export-function.csv"
            driver = (
                "import django,sys;django.setup();"
                "from medworks.accounts.models import User;"
                "from medworks.core.actor import Actor;"
                "from medworks.reconciliation.exports import export_csv;"
                "from medworks.reconciliation.selectors import TableFilter;"
                "u=User.objects.get(username='coordinator');"
                f"f=open({str(out2)!r},'w',encoding='utf-8',newline='');"
                "export_csv(TableFilter(),f,actor=Actor.for_user(u),origin='bench');f.close()"
            )
            wall, rss, how, status, err = run_child([sys.executable, "-c", driver], env, root=root)
            if status == 0:
                exports.append(("export_csv() driver", wall, rss, how, out2))
            else:
                print(f"(the export_csv driver failed, status {status}: {err.strip()[-600:]})")
            # Diagnostic, no verdict: the same driver with the access log's INSERTs left out
            # (record_rows_listed a no-op), to show what the per-case audit rows cost.
            out3 = root / "export-no-audit.csv"
            bare = driver.replace(
                "from medworks.reconciliation.exports import export_csv;",
                "import medworks.reconciliation.exports as x;from medworks.reconciliation.exports "
                "import export_csv;x.record_rows_listed=lambda *a,**k:None;",
            ).replace(str(out2), str(out3))
            wall, rss, how, status, err = run_child([sys.executable, "-c", bare], env, root=root)
            if status == 0:
                print(
                    f"{'(diagnostic: export_csv(), no access log)':40s} {wall:6.2f} s, peak RSS "
                    f"{rss / 1024:6.1f} MB; {csv_rows(out3)} rows"
                )
                results.add(
                    "diagnostic: export_csv() without access log", f"{wall:.2f} s", "", None
                )
        else:
            print("(medworks.reconciliation.exports does not exist yet: the driver not run)")
        # The floor: a process that only loads Django and the export code, writes nothing.
        floor = "import django;django.setup();import medworks.reconciliation.exports"
        _w, floor_kib, how, status, _e = run_child([sys.executable, "-c", floor], env, root=root)
        if status == 0:
            print(
                f"{'(floor: django.setup() + imports only)':40s} peak RSS "
                f"{floor_kib / 1024:6.1f} MB ({how})"
            )
        for label, wall, rss, how, path in exports:
            rows, size = csv_rows(path), path.stat().st_size
            mb = rss / 1024
            print(
                f"{label:40s} {wall:6.2f} s, peak RSS {mb:6.1f} MB ({how}); {rows} rows "
                f"({'= the cases' if rows == args.cases else f'NOT the {args.cases} cases'}), "
                f"{size / 1e6:.1f} MB"
            )
            results.add(
                f"export: {label}"[:44],
                f"{wall:.2f} s",
                f"<= {EXPORT_TARGET_S} s",
                wall <= EXPORT_TARGET_S,
            )
            results.add(
                f"export: {label}, peak RSS"[:44],
                f"{mb:.1f} MB",
                f"<= {EXPORT_TARGET_MB} MB",
                mb <= EXPORT_TARGET_MB,
            )
            results.add(
                f"export: {label}, rows"[:44],
                f"{rows} rows, {size / 1e6:.1f} MB",
                f"= {args.cases}",
                rows == args.cases,
            )
        try:
            export_url = reverse("web:reconciliation_export", kwargs={"fmt": "csv"})
        except NoReverseMatch:
            export_url = None
            print("(the page web:reconciliation_export does not exist yet: not measured)")
        if export_url:
            reset = peak_rss_kib_reset()
            before = vm_kib("VmRSS")
            t0 = time.perf_counter()
            response = client.get(export_url)
            assert response.status_code == 200, response.status_code
            size = lines = 0
            for part in response.streaming_content:
                size += len(part)
                lines += part.count(b"\n")
            response.close()
            wall = time.perf_counter() - t0
            growth = (vm_kib("VmHWM") - before) / 1024
            print(
                f"{'HTTP ' + export_url + ' (in process)':40s} {wall:6.2f} s; "
                f"{lines} lines, {size / 1e6:.1f} MB; peak RSS growth "
                f"{growth:.1f} MB{'' if reset else ' (VmHWM not reset: since start)'}"
            )
            results.add(
                "export: HTTP streaming (in process)",
                f"{wall:.2f} s",
                f"<= {EXPORT_TARGET_S} s",
                wall <= EXPORT_TARGET_S,
            )
            results.add(
                "export: HTTP streaming, RSS growth",
                f"{growth:.1f} MB",
                f"<= {EXPORT_TARGET_MB} MB",
                growth <= EXPORT_TARGET_MB,
            )
            if args.explain:
                capture = SqlCapture()
                with connection.execute_wrapper(capture):
                    for _row in selectors.table_rows(TableFilter()):
                        pass
                explain(connection, capture, count=2)

        # --- 3. The dashboard ------------------------------------------------------------
        from medworks.reconciliation.dashboard import dashboard

        print("\n-- the dashboard --")
        queries = QueryTimer()
        with connection.execute_wrapper(queries):
            figures = dashboard(today=today)
        times = timed(lambda: dashboard(today=today), args.renders)
        p50, p95 = summary(times)
        print(
            f"{'dashboard() alone':40s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({len(queries)} "
            f"queries; {figures.cases_total} cases, {figures.requests} requests and "
            f"{figures.booked} booked in the window, revenue {figures.revenue:,.2f}, margin "
            f"{figures.margin:,.2f}, receivable {figures.balances.receivable:,.2f})"
        )
        results.add("selector: dashboard()", f"p50 {p50:.1f} / p95 {p95:.1f} ms", "", None)
        finance = Client()
        assert finance.login(username="finance", password="bench-password")
        _p50, p95, _r = measure_page(
            finance,
            connection,
            "/staff/dashboard/ as finance",
            reverse("web:dashboard"),
            {},
            b"<svg",
            renders=args.renders,
            do_explain=args.explain,
        )
        results.add(
            "page: dashboard (finance)",
            f"p95 {p95:.1f} ms",
            f"<= {DASHBOARD_TARGET_MS} ms",
            p95 <= DASHBOARD_TARGET_MS,
        )

        results.print()
        print(
            f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
            f"(1, 5, 15 min; {os.cpu_count()} CPUs: above that, other work shared the CPUs)"
        )
        print(
            f"\nmethod: {args.renders} renders after warm-ups, Django test Client signed in "
            "(coordinator: table; finance: dashboard), DEBUG off, one process, the database "
            "on the same machine; p95 by linear interpolation. Export: a child process, wall "
            "time around it, peak RSS = the child's maximum resident set (/usr/bin/time %M, the "
            "whole process)."
        )
    finally:
        connections.close_all()
        if args.keep:
            print(f"kept: {os.environ.get('DATABASE_URL') or root}")
        else:
            if server_url:
                pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            import shutil

            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
