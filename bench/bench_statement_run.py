"""Benchmark: finance's monthly statement run, 1,000 completed cases of one insurer in a month.

    .venv/bin/python bench/bench_statement_run.py [--cases 1000]
    DATABASE_URL=postgres://USER@HOST:5432/DB .venv/bin/python bench/bench_statement_run.py

Works in a fresh database: SQLite in a temp MEDWORKS_DATA_DIR by default; when DATABASE_URL is
set, a separate PostgreSQL database `medworks_bench_statement` on that server, created and
dropped by this script (never DB's own data). Builds `--cases` cases of one insurer the way the
tests do (`tests/billing/invoicing.py` `ready_case`: submitted, taken, a clinic chosen, the
quote prepared and confirmed, booked, seen on a day of last month, completed, ready for
billing), one to three services each, plus `--others` cases of the same insurer seen the
month before (the statement must leave them out). Then times, as a finance user, the real use
cases:

1. `invoice_draft_statement(insurer=, month=, actor=)`: one draft of `--cases` lines;
2. `invoice_issue(invoice=, actor=)` of that draft: numbered, posted, its PDF drawn and
   stored, the insurer's email queued, an event on each case.

Prints the seconds of each step, its SQL queries (count and time spent in them), the PDF's
render time and size, the statements repeated most (where the queries come from), and the
machine. Seeding 1,000 cases takes 1-1.5 minutes on SQLite, 2-3.5 on PostgreSQL (2 cores).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import cpu_model, pg_admin, with_database
from bench_work_queue import QueryTimer

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "medworks_bench_statement"
PRICES = {"XRAY": "120.00", "ULTRASOUND": "185.00", "BLOOD": "42.50"}
SERVICE_MIXES = [("XRAY",), ("XRAY",), ("ULTRASOUND",), ("XRAY", "BLOOD"), ("BLOOD",)]


class SqlLog(QueryTimer):
    """QueryTimer that also keeps each statement's text, to tell which ones repeat."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: collections.Counter[str] = collections.Counter()

    def __call__(self, execute, sql, params, many, context):
        self.statements[" ".join(sql.split())[:110]] += 1
        return super().__call__(execute, sql, params, many, context)

    def summary(self) -> str:
        return f"{len(self)} queries taking {sum(self.times) / 1000:.2f} s"

    def top(self, count: int = 6) -> list[str]:
        return [f"{n:6d} x {sql}" for sql, n in self.statements.most_common(count)]


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def seed(cases: int, others: int, *, month: dt.date, rng: random.Random):
    """The finance user, the insurer and its cases, through the tests' own helpers."""
    from medworks.accounts.models import RoleCode
    from tests import factories
    from tests.billing import invoicing

    agent = factories.make_user(roles=[RoleCode.BOOKING_AGENT], username="bench-agent")
    finance = factories.make_user(roles=[RoleCode.FINANCE], username="bench-finance")
    insurer = invoicing.make_insurer(finance, name="Bench Assist")
    location = invoicing.clinic(prices=PRICES)
    before = previous_month(month)
    days_in_month = ((month + dt.timedelta(days=32)).replace(day=1) - month).days
    for i in range(cases + others):
        seen = (
            month.replace(day=1 + i % days_in_month)
            if i < cases
            else before.replace(day=1 + i % 28)
        )
        invoicing.ready_case(
            insurer=insurer,
            location=location,
            agent=agent,
            services=rng.choice(SERVICE_MIXES),
            seen_on=seen,
        )
    return finance, insurer


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases seen in the month")
    parser.add_argument("--others", type=int, default=20, help="cases seen the month before")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medworks-bench-statement-"))
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url:
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["MEDWORKS_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    os.environ["DEBUG"] = "false"  # no query log: as in production
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))  # the tests' factories build the cases

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    try:
        call_command("migrate", verbosity=0)
        month = previous_month(timezone.localdate())
        t0 = time.perf_counter()
        finance, insurer = seed(args.cases, args.others, month=month, rng=random.Random(args.seed))
        seed_s = time.perf_counter() - t0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        from medworks.billing import invoice_pdf, invoices
        from medworks.billing.models import InvoicePdf, JournalKind, LedgerEntry
        from medworks.core.actor import Actor
        from medworks.documents.storage import unseal

        print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
              f"{cpu_model()}; Python {platform.python_version()}")  # fmt: skip
        connection.ensure_connection()
        version = (
            connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else connection.Database.sqlite_version
        )
        print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
        print(f"cases: {args.cases} seen in {month:%Y-%m} (+{args.others} the month before), "
              f"built through the use cases in {seed_s:.1f} s")  # fmt: skip

        actor = Actor.for_user(finance)
        draft_log = SqlLog()
        t0 = time.perf_counter()
        with connection.execute_wrapper(draft_log):
            drafts = invoices.invoice_draft_statement(insurer=insurer, month=month, actor=actor)
        draft_s = time.perf_counter() - t0
        assert len(drafts.invoices) == 1, drafts.invoices
        assert not drafts.left_out, drafts.left_out[:3]
        draft = drafts.invoices[0]
        lines = draft.lines.count()
        assert lines == args.cases, lines
        print(f"invoice_draft_statement: {draft_s:6.2f} s  ({lines} lines, total "
              f"{draft.total:.2f}; {draft_log.summary()})")  # fmt: skip

        render_times: list[float] = []
        real_render = invoice_pdf.render

        def timed_render(invoice):
            t = time.perf_counter()
            try:
                return real_render(invoice)
            finally:
                render_times.append(time.perf_counter() - t)

        issue_log = SqlLog()
        invoice_pdf.render = timed_render  # the same function, timed
        try:
            t0 = time.perf_counter()
            with connection.execute_wrapper(issue_log):
                issued = invoices.invoice_issue(invoice=draft, actor=actor)
            issue_s = time.perf_counter() - t0
        finally:
            invoice_pdf.render = real_render
        pdf = unseal(bytes(InvoicePdf.objects.get(invoice=issued).sealed))
        rows = LedgerEntry.objects.filter(
            journal__invoice=issued, journal__kind=JournalKind.INVOICE_ISSUED
        ).count()
        print(f"invoice_issue:           {issue_s:6.2f} s  ({issued.display_number}, "
              f"{rows} ledger rows; PDF {len(pdf) / 1024:.0f} KiB, {pdf_pages(pdf)} pages, "
              f"rendered in {sum(render_times):.2f} s; {issue_log.summary()})")  # fmt: skip
        print(f"statement run, draft + issue: {draft_s + issue_s:.2f} s, "
              f"{len(draft_log) + len(issue_log)} queries")  # fmt: skip
        for label, log in (("draft", draft_log), ("issue", issue_log)):
            print(f"most repeated statements ({label}):")
            for line in log.top():
                print(f"  {line}")
    finally:
        connections.close_all()
        if server_url:
            pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
