"""Benchmark: finance's receivables page and the invoices list, with 100,000 insurer invoices.

    DATABASE_URL=postgres://USER@HOST:5432/DB .venv/bin/python bench/bench_receivables.py
    .venv/bin/python bench/bench_receivables.py [--invoices 100000] [--renders 50] [--explain]

Works in a fresh database: SQLite in a temp MEDWORKS_DATA_DIR by default; when DATABASE_URL is
set, a separate PostgreSQL database `medworks_bench_receivables` on that server, created and
dropped by this script (never DB's own data).

Seeds `--invoices` issued invoices of 5 insurers (4 in Ontario, HST; 1 in Quebec, GST + QST)
over the last two years, with bulk_create, each row shaped as `billing.invoices` writes it:
the case (patient and request) it bills, the Invoice as `_issue` leaves it (numbered per year
in date order, dated, the particulars snapshotted), its InvoiceLines (one per service, as
`invoice_draft_for_case`) and InvoiceTax rows, its `invoice_issued` Journal and LedgerEntry
rows (Dr receivable total / Cr revenue per line with its case / Cr tax payable per tax); and
the payments as `payment_record` writes them: PaymentReceived, PaymentAllocation, a
`payment_received` Journal, Dr bank / Cr receivable per invoice paid / Cr receivable on no
invoice for what is left over (the insurer's credit). The states are mixed as the overdue
sweep leaves them: not yet due -> issued, partly paid or paid; past due -> mostly paid (several
invoices per EFT), else overdue (some with a part paid). Not written: the PDFs, the audit
rows, the case events and the outbox emails of each issue, and the quotes the lines name
(the pages measured read none of them).

Then renders, through Django's test Client signed in as a finance user (the whole stack:
middleware, session, view, template), `--renders` times after 3 warm-up renders each:
/staff/receivables/ (the ageing of every open invoice) and /staff/invoices/ page 1 (and the
same list filtered to one insurer's overdue invoices), and prints p50/p95, the SQL queries
per render and the time spent in them, and the machine. Target: p95 <= 300 ms.
`--explain` (PostgreSQL) prints EXPLAIN ANALYZE of each page's slowest statements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import cpu_model, pg_admin, with_database
from bench_work_queue import QueryTimer, percentile

BENCH_DB = "medworks_bench_receivables"
TARGET_MS = 300
CHUNK = 5000
CENT = Decimal("0.01")
# (name, place of supply, language, its taxes as (name, rate)): rates as seeded in 2026.
INSURERS = [
    ("Maple Assist", "ON", "en", [("HST", Decimal("0.13000"))]),
    ("Northern Mutual", "ON", "en", [("HST", Decimal("0.13000"))]),
    ("Lakeshore Claims", "ON", "en", [("HST", Decimal("0.13000"))]),
    ("Great Lakes Insurance", "ON", "en", [("HST", Decimal("0.13000"))]),
    ("Assurance Laurentienne", "QC", "fr", [("GST", Decimal("0.05")), ("QST", Decimal("0.09975"))]),
]
SERVICES = {"XRAY": "180.00", "ULTRASOUND": "277.50", "BLOOD": "63.75", "MRI": "1125.00"}
SERVICE_MIXES = [("XRAY",), ("XRAY",), ("ULTRASOUND",), ("XRAY", "BLOOD"), ("MRI",), ("BLOOD",)]


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class SqlCapture(QueryTimer):
    """QueryTimer that keeps each statement with its parameters and time (for --explain)."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return super().__call__(execute, sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - t0) * 1000, sql, params))


class Seeder:
    """Writes the rows `_issue` and `payment_record` write, a chunk of invoices at a time."""

    def __init__(self, *, rng: random.Random, today: dt.date) -> None:
        from django.conf import settings

        from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
        from medworks.billing.ledger import account_code
        from medworks.billing.models import LedgerAccount
        from medworks.network.models import Service

        self.rng, self.today = rng, today
        operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR)
        self.finance = User.objects.create_user(
            username="finance", password="bench-password", organisation=operator
        )
        self.finance.roles.add(Role.objects.get(code=RoleCode.FINANCE))
        self.insurers = []
        for name, place, language, taxes in INSURERS:
            org = Organisation.objects.create(
                name=name, kind=OrganisationKind.INSURER, correspondence_language=language
            )
            self.insurers.append((org, place, language, taxes))
        self.services = {s.code: s for s in Service.objects.filter(code__in=SERVICES)}
        self.codes = {account: account_code(account) for account in LedgerAccount.values}
        self.seller = {
            "seller_name": settings.MEDWORKS_LEGAL_NAME,
            "seller_address": "\n".join(
                p.strip() for p in settings.MEDWORKS_ADDRESS.split("|") if p.strip()
            ),
            "seller_gst_hst_number": settings.MEDWORKS_GST_HST_NUMBER,
        }
        self.qst_number = settings.MEDWORKS_QST_NUMBER
        self.numbers: dict[str, int] = {}
        self.counts = dict.fromkeys(
            ["issued", "partly_paid", "paid", "overdue", "payments", "ledger", "credit"], 0
        )
        self.case_seq = 0

    def take(self, prefix: str, year: int) -> tuple[str, int]:
        series = f"{prefix}-{year}"
        self.numbers[series] = self.numbers.get(series, 0) + 1
        return series, self.numbers[series]

    def plan(self, count: int) -> list[dict]:
        """Each invoice's insurer, issue date, services, state and payment, in date order."""
        rng, today = self.rng, self.today
        days = sorted(rng.randrange(0, 730) for _ in range(count))
        plans = []
        for back in reversed(days):
            issue = today - dt.timedelta(days=back)
            due = issue + dt.timedelta(days=30)
            r = rng.random()
            if due >= today:  # not yet due
                state = "issued" if r < 0.70 else "partly_paid" if r < 0.85 else "paid"
            else:  # the sweep marked every late invoice with a balance overdue
                state = "paid" if r < 0.88 else "overdue" if r < 0.97 else "overdue_part"
            paid_on = min(today, issue + dt.timedelta(days=rng.randint(3, 75)))
            if state in ("partly_paid", "overdue_part"):
                paid_on = min(today, issue + dt.timedelta(days=rng.randint(3, 25)))
            plans.append(
                {
                    "insurer": rng.randrange(len(self.insurers)),
                    "issue": issue,
                    "due": due,
                    "services": rng.choice(SERVICE_MIXES),
                    "state": state,
                    "paid_on": paid_on,
                    "minute": rng.randint(8 * 60, 17 * 60),
                }
            )
        return plans

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        from django.utils import timezone

        return dt.datetime.combine(
            day, dt.time(minute // 60, minute % 60), tzinfo=timezone.get_current_timezone()
        )

    def cases(self, plans: list[dict]) -> list:
        """The cases billed (bulk, as bench_work_queue makes them), ready for billing."""
        from medworks.bookings.models import BookingRequest, BookingStatus, Patient

        patients = Patient.objects.bulk_create(
            Patient(
                insurer=self.insurers[p["insurer"]][0],
                first_name="Bench",
                last_name=f"Patient{self.case_seq + i}",
                date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                address=f"{i} Main Street",
                city="Toronto",
                province="ON",
                postal_code="M5V 3L9",
            )
            for i, p in enumerate(plans)
        )
        cases = BookingRequest.objects.bulk_create(
            BookingRequest(
                order_id=f"MW-{p['issue'].year}-{self.case_seq + i + 1:06d}",
                insurer_id=patient.insurer_id,
                insurer_reference=f"CLM-{self.case_seq + i:07d}",
                insurer_contact_name="Claims desk",
                insurer_contact_email="claims@insurer.example",
                patient=patient,
                channel="portal",
                status=BookingStatus.READY_FOR_BILLING,
                status_changed_at=self.at(p["issue"], 8 * 60),
                urgency="routine",
            )
            for i, (p, patient) in enumerate(zip(plans, patients, strict=True))
        )
        self.case_seq += len(plans)
        return cases

    def chunk(self, plans: list[dict]) -> None:
        from django.utils import translation
        from django.utils.translation import gettext as _

        from medworks.billing.models import (
            TAX_ACCOUNT,
            Invoice,
            InvoiceKind,
            InvoiceLine,
            InvoiceStatus,
            InvoiceTax,
            Journal,
            JournalKind,
            LedgerAccount,
            LedgerEntry,
        )

        cases = self.cases(plans)
        groups = self.group_payments(plans)
        invoices, lines, taxes = [], [], []
        for p, case in zip(plans, cases, strict=True):
            org, place, language, rates = self.insurers[p["insurer"]]
            amounts = [money(SERVICES[code]) for code in p["services"]]
            subtotal = sum(amounts, Decimal("0.00"))
            tax_rows = [(name, rate, money(subtotal * rate)) for name, rate in rates]
            tax_total = sum((t[2] for t in tax_rows), Decimal("0.00"))
            series, number = self.take("INV", p["issue"].year)
            issued_at = self.at(p["issue"], p["minute"])
            status = {
                "issued": InvoiceStatus.ISSUED,
                "partly_paid": InvoiceStatus.PARTLY_PAID,
                "paid": InvoiceStatus.PAID,
                "overdue": InvoiceStatus.OVERDUE,
                "overdue_part": InvoiceStatus.OVERDUE,
            }[p["state"]]
            changed = issued_at  # the issue; then the payment, as it was recorded
            if p["state"] in ("paid", "partly_paid"):
                changed = self.at(p["received_on"], 16 * 60)
            elif p["state"].startswith("overdue"):  # the sweep, the night after the due date
                changed = self.at(p["due"] + dt.timedelta(days=1), 0)
            invoices.append(
                Invoice(
                    kind=InvoiceKind.INVOICE,
                    status=status,
                    status_changed_at=changed,
                    insurer=org,
                    series=series,
                    number=number,
                    display_number=f"{series}-{number:06d}",
                    issue_date=p["issue"],
                    terms_days=30,
                    due_date=p["due"],
                    tax_point=p["issue"],
                    place_of_supply=place,
                    language=language,
                    buyer_name=org.name,
                    buyer_address="",
                    seller_qst_number=self.qst_number if place == "QC" else "",
                    subtotal=subtotal,
                    tax_total=tax_total,
                    total=subtotal + tax_total,
                    created_by=self.finance,
                    created_at=issued_at - dt.timedelta(minutes=5),
                    issued_by=self.finance,
                    issued_at=issued_at,
                    **self.seller,
                )
            )
            p.update(case=case, amounts=amounts, taxes=tax_rows, total=subtotal + tax_total)
        Invoice.objects.bulk_create(invoices)
        journals, entries = [], []
        for p, invoice in zip(plans, invoices, strict=True):
            p["invoice"] = invoice
            org, _place, language, _rates = self.insurers[p["insurer"]]
            case = p["case"]
            with translation.override(language):
                for position, (code, amount) in enumerate(
                    zip(p["services"], p["amounts"], strict=True)
                ):
                    service = self.services[code]
                    name = service.name_fr if language == "fr" and service.name_fr else None
                    lines.append(
                        InvoiceLine(
                            invoice=invoice,
                            position=position,
                            case=case,
                            service=service,
                            description=_(
                                "%(service)s: case %(order_id)s, your reference %(reference)s"
                            )
                            % {
                                "service": name or service.name_en,
                                "order_id": case.order_id,
                                "reference": case.insurer_reference,
                            },
                            amount=amount,
                        )
                    )
                memo = _("Invoice to %(insurer)s") % {"insurer": org.name}
            for position, (name, rate, amount) in enumerate(p["taxes"]):
                taxes.append(
                    InvoiceTax(
                        invoice=invoice, position=position, name=name, rate=rate, amount=amount
                    )
                )
            journals.append(
                Journal(
                    kind=JournalKind.INVOICE_ISSUED,
                    date=p["issue"],
                    reference=invoice.display_number,
                    memo=memo,
                    insurer=org,
                    invoice=invoice,
                    posted_by=self.finance,
                    actor_kind="user",
                    posted_at=invoice.issued_at,
                )
            )
            rows = [(LedgerAccount.RECEIVABLE, p["total"], 0, {})]
            rows += [(LedgerAccount.REVENUE, 0, a, {"case": case}) for a in p["amounts"]]
            rows += [
                (TAX_ACCOUNT[name], 0, amount, {"tax_name": name})
                for name, _rate, amount in p["taxes"]
                if amount > 0
            ]
            entries.append(rows)
        InvoiceLine.objects.bulk_create(lines)
        InvoiceTax.objects.bulk_create(taxes)
        Journal.objects.bulk_create(journals)
        ledger = []
        for journal, rows in zip(journals, entries, strict=True):
            ledger += [
                LedgerEntry(
                    journal=journal,
                    position=position,
                    account=account,
                    account_code=self.codes[account],
                    debit=money(dr),
                    credit=money(cr),
                    insurer=journal.insurer,
                    invoice=journal.invoice,
                    **where,
                )
                for position, (account, dr, cr, where) in enumerate(rows)
            ]
        LedgerEntry.objects.bulk_create(ledger)
        self.counts["ledger"] += len(ledger)
        self.payments(groups)
        for p in plans:
            state = "overdue" if p["state"] == "overdue_part" else p["state"]
            self.counts[state] += 1

    def group_payments(self, plans: list[dict]) -> list[tuple[int, list[tuple[dict, Decimal]]]]:
        """Which payment pays each invoice: paid invoices by batches of 1-8 per insurer (one
        EFT or cheque each, received the day the last of them was paid), part payments one
        per invoice. Sets each paid invoice's `received_on`."""
        rng = self.rng
        groups: list[tuple[int, list[tuple[dict, Decimal]]]] = []
        by_insurer: dict[int, list[dict]] = {}
        for p in plans:
            if p["state"] == "paid":
                by_insurer.setdefault(p["insurer"], []).append(p)
            elif p["state"] in ("partly_paid", "overdue_part"):
                groups.append((p["insurer"], [(p, None)]))
        for insurer, paid in by_insurer.items():
            while paid:
                size = rng.randint(1, 8)
                groups.append((insurer, [(p, None) for p in paid[:size]]))
                paid = paid[size:]
        for _insurer, shares in groups:
            received_on = max(p["paid_on"] for p, _share in shares)
            for p, _share in shares:
                p["received_on"] = received_on
        return groups

    def payments(self, groups: list[tuple[int, list[tuple[dict, Decimal]]]]) -> None:
        """The payments `payment_record` writes for `groups` (each invoice paid in full, or
        20-80% of a part-paid one); 3% of payments pay more than the invoices (the rest is
        the insurer's credit)."""
        from medworks.billing.models import (
            Journal,
            JournalKind,
            LedgerAccount,
            LedgerEntry,
            PaymentAllocation,
            PaymentMethod,
            PaymentReceived,
        )

        rng = self.rng
        groups = [
            (
                insurer,
                [
                    (p, p["total"])
                    if p["state"] == "paid"
                    else (p, money(p["total"] * Decimal(rng.randint(20, 80)) / 100))
                    for p, _none in shares
                ],
            )
            for insurer, shares in groups
        ]
        made = []
        for insurer, shares in groups:
            org = self.insurers[insurer][0]
            received_on = shares[0][0]["received_on"]
            extra = money(rng.randint(1000, 20000) / 100) if rng.random() < 0.03 else 0
            amount = sum((share for _p, share in shares), Decimal("0.00")) + extra
            method = rng.choice([PaymentMethod.EFT, PaymentMethod.EFT, PaymentMethod.CHEQUE])
            reference = f"TRACE-{rng.randrange(10**9):09d}"
            series, number = self.take("RCT", received_on.year)
            payment = PaymentReceived(
                insurer=org,
                display_number=f"{series}-{number:06d}",
                received_on=received_on,
                amount=amount,
                method=method,
                reference=reference,
                recorded_by=self.finance,
                recorded_at=self.at(received_on, 16 * 60),
            )
            made.append((payment, org, shares, extra, f"{PaymentMethod(method).label} {reference}"))
        PaymentReceived.objects.bulk_create([m[0] for m in made])
        PaymentAllocation.objects.bulk_create(
            PaymentAllocation(
                payment=payment,
                invoice=p["invoice"],
                amount=share,
                applied_on=payment.received_on,
                created_at=payment.recorded_at,
            )
            for payment, _org, shares, _extra, _memo in made
            for p, share in shares
        )
        journals = Journal.objects.bulk_create(
            Journal(
                kind=JournalKind.PAYMENT_RECEIVED,
                date=payment.received_on,
                reference=payment.display_number,
                memo=memo[:255],
                insurer=org,
                payment=payment,
                posted_by=self.finance,
                actor_kind="user",
                posted_at=payment.recorded_at,
            )
            for payment, org, _shares, _extra, memo in made
        )
        ledger = []
        for journal, (payment, org, shares, extra, _memo) in zip(journals, made, strict=True):
            rows = [(LedgerAccount.CASH, payment.amount, Decimal("0.00"), None)]
            rows += [
                (LedgerAccount.RECEIVABLE, Decimal("0.00"), share, p["invoice"])
                for p, share in shares
            ]
            if extra:
                rows.append((LedgerAccount.RECEIVABLE, Decimal("0.00"), extra, None))
                self.counts["credit"] += 1
            ledger += [
                LedgerEntry(
                    journal=journal,
                    position=position,
                    account=account,
                    account_code=self.codes[account],
                    debit=dr,
                    credit=cr,
                    insurer=org,
                    invoice=invoice,
                    payment=payment,
                )
                for position, (account, dr, cr, invoice) in enumerate(rows)
            ]
        LedgerEntry.objects.bulk_create(ledger)
        self.counts["payments"] += len(made)
        self.counts["ledger"] += len(ledger)

    def run(self, count: int) -> None:
        from django.db import transaction

        from medworks.billing.models import InvoiceSequence

        plans = self.plan(count)
        for start in range(0, count, CHUNK):
            with transaction.atomic():
                self.chunk(plans[start : start + CHUNK])
        InvoiceSequence.objects.bulk_create(
            InvoiceSequence(series=series, next_number=n + 1) for series, n in self.numbers.items()
        )


def check_balances(today: dt.date) -> str:
    """The seeded ledger read back through billing.receivables: the open invoices' balances
    are positive and every paid invoice's is nil (the seed is what the code would write)."""
    from medworks.billing.models import INVOICE_OPEN_STATUSES, Invoice, InvoiceStatus
    from medworks.billing.receivables import ageing, invoice_balances, unbalanced_journals

    report = ageing(today=today)
    open_count = Invoice.objects.filter(status__in=INVOICE_OPEN_STATUSES).count()
    aged = sum(len(row.invoices) for row in report.insurers)
    assert aged == open_count, (aged, open_count)
    sample = list(Invoice.objects.filter(status=InvoiceStatus.PAID)[:500])
    assert all(b == 0 for b in invoice_balances(sample).values())
    assert not unbalanced_journals()
    return (
        f"{open_count} open invoices owing {report.owed:,.2f}, insurers' credit "
        f"{report.credit:,.2f}; every journal balanced"
    )


def explain(connection, capture: SqlCapture, count: int = 3) -> None:
    if connection.vendor != "postgresql":
        print("  (--explain needs PostgreSQL)")
        return
    for ms, sql, params in sorted(capture.statements, key=lambda s: -s[0])[:count]:
        print(f"  -- {ms:.1f} ms: {' '.join(sql.split())[:300]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print(f"     {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE (PostgreSQL)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medworks-bench-receivables-"))
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url:
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["MEDWORKS_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    os.environ["DEBUG"] = "false"  # no query log, no debug toolbar cost: as in production
    # Finance is signed in with the password alone: the page, not the two-step sign-in, is
    # measured.
    os.environ["MEDWORKS_STAFF_REQUIRE_2FA"] = "false"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        today = timezone.localdate()
        t0 = time.perf_counter()
        seeder = Seeder(rng=random.Random(args.seed), today=today)
        seeder.run(args.invoices)
        seed_s = time.perf_counter() - t0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

        print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
              f"{cpu_model()}; Python {platform.python_version()}")  # fmt: skip
        connection.ensure_connection()
        version = (
            connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else connection.Database.sqlite_version
        )
        print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
        c = seeder.counts
        print(f"invoices: {args.invoices} of {len(INSURERS)} insurers ({c['issued']} issued, "
              f"{c['partly_paid']} partly paid, {c['paid']} paid, {c['overdue']} overdue), "
              f"{c['payments']} payments ({c['credit']} leaving credit), {c['ledger']} ledger "
              f"rows; bulk-created in {seed_s:.1f} s")  # fmt: skip
        print(f"read back: {check_balances(today)}")

        client = Client()
        assert client.login(username="finance", password="bench-password")
        some_insurer = seeder.insurers[0][0]
        pages = [
            ("receivables", "/staff/receivables/", {}, b'<tr id="insurer-'),
            ("invoices, page 1", "/staff/invoices/", {}, b'<tr id="invoice-'),
            (
                "invoices, 1 insurer overdue",
                "/staff/invoices/",
                {"insurer": str(some_insurer.pk), "status": "overdue"},
                b'<tr id="invoice-',
            ),
        ]
        worst_p95 = 0.0
        for label, url, params, marker in pages:
            for _ in range(3):  # warm up, and check it works
                response = client.get(url, params)
                assert response.status_code == 200, response.status_code
            capture = SqlCapture()
            with connection.execute_wrapper(capture):
                client.get(url, params)
            times = []
            for _ in range(args.renders):
                t0 = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - t0) * 1000)
            rows = response.content.count(marker)
            p50, p95 = statistics.median(times), percentile(times, 95)
            worst_p95 = max(worst_p95, p95)
            print(f"{label:28s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                  f"({rows} rows, {len(capture)} queries taking {sum(capture.times):.1f} ms, "
                  f"{args.renders} renders)")  # fmt: skip
            if args.explain:
                explain(connection, capture)
        verdict = "OK" if worst_p95 <= TARGET_MS else "OVER TARGET"
        print(f"target p95 <= {TARGET_MS} ms: {verdict} (worst p95 {worst_p95:.1f} ms)")
    finally:
        connections.close_all()
        if server_url:
            pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
