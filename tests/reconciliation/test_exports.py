"""The SOP table's exports (issue 12): the CSV and the XLSX hold the table the page shows, row
for row and figure for figure, with the filters applied and the totals; text from outside is
never read as a formula; every case written is recorded in the access log, with one record of
the export itself; the CSV streams in chunks of 2,000 rows at a bounded number of queries; and
`medworks export-reconciliation` writes either file atomically, with one line and status 2 for
every bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from medworks.accounts.models import OrganisationKind
from medworks.bookings.models import BookingRequest, Patient
from medworks.core.actor import Actor
from medworks.core.models import AuditEvent
from medworks.reconciliation.exports import (
    COLUMNS,
    csv_chunks,
    export_csv,
    export_xlsx,
    method_label,
    status_label,
)
from medworks.reconciliation.models import CheckState, Reconciliation, ReconciliationStatus
from medworks.reconciliation.selectors import (
    TableFilter,
    TableRow,
    table_page,
    table_totals,
)
from medworks.reconciliation.services import reconciliation_refresh
from tests import factories
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.factories import act
from tests.reconciliation.world import provider_invoice

pytestmark = pytest.mark.django_db

D = Decimal
MEDWORKS = Path(sys.executable).with_name("medworks")
SYSTEM = Actor.system("test export")
EVERYTHING = TableFilter()


# --- the orders -------------------------------------------------------------------------------


def bulk_orders(count: int, *, insurer=None, start: dt.date | None = None, prefix="MW-2099"):
    """`count` booked orders with their reconciliation snapshots, written in bulk (the
    figures vary; one order a day going back from `start`, two a day): for tests of size."""
    insurer = insurer or factories.make_organisation(kind=OrganisationKind.INSURER)
    start = start or timezone.localdate()
    statuses = ReconciliationStatus.values
    methods = ["direct_billing", "credit_card", "eft", ""]
    made = 0
    while made < count:
        size = min(2000, count - made)
        patients = Patient.objects.bulk_create(
            Patient(
                insurer=insurer,
                first_name="Zoé",
                last_name=f"Côté {made + i}",
                date_of_birth=dt.date(1970, 1, 1),
                address="1 Main Street",
                city="Toronto",
                province="ON",
                postal_code="M5V 3L9",
            )
            for i in range(size)
        )
        cases = BookingRequest.objects.bulk_create(
            BookingRequest(
                order_id=f"{prefix}-{made + i + 1:06d}",
                insurer=insurer,
                insurer_reference=f"CLM-{made + i}",
                insurer_contact_name="Claims desk",
                insurer_contact_email="claims@insurer.example",
                patient=patient,
                channel="portal",
                status="booked",
            )
            for i, patient in enumerate(patients)
        )
        rows = []
        for i, case in enumerate(cases):
            n = made + i
            day = start - dt.timedelta(days=n // 2)
            clinic_cost = D(100 + n % 37) + D("0.25")
            medworks_cost = (clinic_cost / 2).quantize(D("0.01"))
            total = clinic_cost + medworks_cost
            tax = (total * D("0.13")).quantize(D("0.01"))
            rows.append(
                Reconciliation(
                    case=case,
                    status=statuses[n % len(statuses)],
                    month=day.replace(day=1),
                    insurer=insurer,
                    order_date=day,
                    appointment_at=timezone.make_aware(
                        dt.datetime.combine(day + dt.timedelta(days=3), dt.time(9, 30))
                    )
                    if n % 5
                    else None,
                    location=f"Clinic {n % 7}, 1 King Street, Toronto",
                    services="X-ray",
                    clinic_cost=clinic_cost if n % 11 else None,
                    medworks_cost=medworks_cost if n % 11 else None,
                    total_to_bill=total if n % 11 else None,
                    tax=tax if n % 11 else None,
                    total_with_tax=total + tax if n % 11 else None,
                    payment_method=methods[n % len(methods)],
                    order_email=CheckState.MET,
                    payment_process=CheckState.MET,
                    provider_invoice=CheckState.MISSING,
                    insurer_payment=CheckState.MISSING,
                )
            )
        Reconciliation.objects.bulk_create(rows)
        made += size
    return insurer


@pytest.fixture
def orders(booking_agent, finance_user):
    """Three orders taken the whole way: two of Maple Assist (one in discrepancy: the
    provider invoiced more than agreed; its patient's name typed as a formula), one of
    Northern Life; each reconciled by the sweep's own refresh."""
    maple = make_insurer(finance_user, name="Maple Assist")
    northern = make_insurer(finance_user, name="Northern Life")
    location = clinic()
    cases = [
        ready_case(insurer=maple, location=location, agent=booking_agent),
        ready_case(insurer=maple, location=location, agent=booking_agent),
        ready_case(insurer=northern, location=location, agent=booking_agent),
    ]
    provider_invoice(cases[1], booking_agent, amount="150.00", tax="19.50")
    Patient.objects.filter(pk=cases[1].patient_id).update(first_name='=HYPERLINK("x")')
    for case in cases:
        reconciliation_refresh(case=case, actor=SYSTEM)
    return {"maple": maple, "northern": northern, "cases": cases, "location": location}


def every_row(where: TableFilter) -> list[TableRow]:
    """The table as the page shows it, walking its pages by keyset."""
    rows, after = [], None
    while True:
        page = table_page(where, after=after, size=50)
        rows.extend(page.rows)
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def expected_csv(row: TableRow) -> list[str]:
    appointment = (
        timezone.localtime(row.appointment_at).strftime("%Y-%m-%d %H:%M")
        if row.appointment_at
        else ""
    )
    name = row.patient_name
    return [
        str(row.number),
        row.order_id,
        "'" + name if name.startswith("=") else name,
        row.services,
        row.order_date.isoformat(),
        appointment,
        row.location,
        money(row.clinic_cost),
        money(row.medworks_cost),
        money(row.total_to_bill),
        money(row.tax),
        money(row.total_with_tax),
        method_label(row.payment_method),
        status_label(row.status),
        row.insurer,
    ]


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def csv_of(where: TableFilter, actor=SYSTEM) -> list[list[str]]:
    out = io.StringIO(newline="")
    export_csv(where, out, actor=actor)
    return read_csv(out.getvalue())


def xlsx_of(where: TableFilter, tmp_path, actor=SYSTEM):
    target = tmp_path / "table.xlsx"
    count = export_xlsx(where, target, actor=actor)
    return count, load_workbook(target).active


# --- the content is the table -------------------------------------------------------------------


def test_the_csv_holds_the_table_row_for_row_and_its_totals(orders):
    bulk_orders(130, insurer=orders["northern"])
    table = every_row(EVERYTHING)

    written = csv_of(EVERYTHING)

    assert written[0] == [str(c) for c in COLUMNS]
    assert written[1:] == [expected_csv(row) for row in table]
    assert len(written) - 1 == len(table) == 133
    totals = table_totals(EVERYTHING)
    for column, name in zip(
        range(7, 12),
        ["clinic_cost", "medworks_cost", "total_to_bill", "tax", "total_with_tax"],
        strict=True,
    ):
        assert sum((D(r[column]) for r in written[1:] if r[column]), D("0.00")) == getattr(
            totals, name
        )


def test_the_csv_shows_a_real_orders_figures_and_labels(orders):
    written = {r[1]: r for r in csv_of(EVERYTHING)[1:]}
    first = orders["cases"][0]
    row = written[first.order_id]

    assert row[2] == "Jean Tremblay"
    assert row[3] == "X-ray"
    assert row[4] == timezone.localdate(first.created_at).isoformat()
    assert row[7:12] == ["120.00", "60.00", "180.00", "23.40", "203.40"]
    assert row[12] == "Direct billing"
    assert row[14] == "Maple Assist"
    assert written[orders["cases"][1].order_id][13] == "Discrepancy"


def test_the_xlsx_holds_the_table_with_numbers_a_frozen_header_and_a_totals_row(orders, tmp_path):
    bulk_orders(60, insurer=orders["maple"])
    table = every_row(EVERYTHING)

    count, sheet = xlsx_of(EVERYTHING, tmp_path)
    rows = list(sheet.iter_rows())

    assert count == len(table) == 63
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width > 10
    assert [c.value for c in rows[0]] == [str(c) for c in COLUMNS]
    body, totals = rows[1:-1], rows[-1]
    assert len(body) == len(table)
    for cells, row in zip(body, table, strict=True):
        values = [c.value for c in cells]
        assert values[0] == row.number
        assert values[1] == row.order_id
        assert values[4] == dt.datetime.combine(row.order_date, dt.time())
        if row.appointment_at:
            local = timezone.localtime(row.appointment_at).replace(
                tzinfo=None, second=0, microsecond=0
            )
            assert values[5] == local
        else:
            assert values[5] is None
        figures = [
            row.clinic_cost,
            row.medworks_cost,
            row.total_to_bill,
            row.tax,
            row.total_with_tax,
        ]
        assert [None if v is None else D(str(v)) for v in values[7:12]] == figures
        assert values[12:] == [
            method_label(row.payment_method) or None,
            status_label(row.status),
            row.insurer,
        ]
        if row.clinic_cost is not None:
            assert cells[7].number_format == "0.00"
            assert cells[7].data_type == "n"
    expected = table_totals(EVERYTHING)
    assert totals[0].value == "Total"
    assert totals[1].value == "63 orders"
    assert [D(str(c.value)).quantize(D("0.01")) for c in totals[7:12]] == [
        expected.clinic_cost,
        expected.medworks_cost,
        expected.total_to_bill,
        expected.tax,
        expected.total_with_tax,
    ]


def test_the_filters_apply_to_the_exports(orders, tmp_path):
    bulk_orders(20, insurer=orders["northern"], start=timezone.localdate() - dt.timedelta(days=40))
    maple = TableFilter(insurer_id=orders["maple"].pk)
    discrepancy = TableFilter(status=ReconciliationStatus.DISCREPANCY)
    today = timezone.localdate()
    recent = TableFilter(date_from=today - dt.timedelta(days=2), date_to=today)
    provider = TableFilter(provider_id=orders["location"].partner_id)

    assert [r[1] for r in csv_of(maple)[1:]] == [r.order_id for r in every_row(maple)]
    assert {r[14] for r in csv_of(maple)[1:]} == {"Maple Assist"}
    assert len(csv_of(maple)) - 1 == 2
    assert [r[1] for r in csv_of(discrepancy)[1:]] == [r.order_id for r in every_row(discrepancy)]
    assert orders["cases"][1].order_id in [r[1] for r in csv_of(discrepancy)[1:]]
    assert sorted(r[1] for r in csv_of(recent)[1:]) == sorted(c.order_id for c in orders["cases"])
    assert sorted(r[1] for r in csv_of(provider)[1:]) == sorted(c.order_id for c in orders["cases"])
    count, sheet = xlsx_of(maple, tmp_path)
    assert count == 2
    assert {row[14].value for row in list(sheet.iter_rows())[1:-1]} == {"Maple Assist"}


def test_a_cell_typed_as_a_formula_is_written_as_text(orders, tmp_path):
    case = orders["cases"][0]
    Reconciliation.objects.filter(case=case).update(
        location="@SUM(1+1)*cmd|' /C calc'!A0", services="+1-1"
    )
    Patient.objects.filter(pk=case.patient_id).update(first_name="-2+3", last_name="x")

    written = {r[1]: r for r in csv_of(EVERYTHING)[1:]}
    row = written[case.order_id]
    assert row[2] == "'-2+3 x"
    assert row[3] == "'+1-1"
    assert row[6] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert written[orders["cases"][1].order_id][2] == '\'=HYPERLINK("x") Tremblay'

    _count, sheet = xlsx_of(EVERYTHING, tmp_path)
    cells = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    assert cells[case.order_id][2].value == "'-2+3 x"
    assert cells[case.order_id][6].value == "'@SUM(1+1)*cmd|' /C calc'!A0"
    formula = cells[orders["cases"][1].order_id][2]
    assert formula.value == '\'=HYPERLINK("x") Tremblay'
    assert formula.data_type == "s"


def test_the_headings_are_written_in_the_active_language(orders):
    with translation.override("fr"):
        written = csv_of(EVERYTHING)

    assert written[0][:4] == ["N°", "N° de demande", "Nom du patient", "Service demandé"]
    assert written[0][9] == (
        "Coût total à facturer à l\u2019assureur (coût de la clinique + coût MedWorks)"
    )
    assert written[1][12] == "Facturation directe"


# --- the access log -----------------------------------------------------------------------------


def test_an_export_records_every_case_written_and_itself(orders, coordinator):
    before = AuditEvent.objects.count()

    rows = csv_of(TableFilter(insurer_id=orders["maple"].pk), actor=act(coordinator))

    listed = AuditEvent.objects.filter(action="booking_request.listed").order_by("pk")
    assert sorted(e.object_id for e in listed) == sorted(str(c.pk) for c in orders["cases"][:2])
    assert {e.payload["list"] for e in listed} == {"reconciliation export csv"}
    assert {e.payload["patient_id"] for e in listed} == {c.patient_id for c in orders["cases"][:2]}
    assert {e.actor_id for e in listed} == {coordinator.pk}
    exported = AuditEvent.objects.get(action="reconciliation.exported")
    assert exported.actor_id == coordinator.pk
    assert exported.payload["filters"] == TableFilter(insurer_id=orders["maple"].pk).describe()
    assert exported.payload["format"] == "csv"
    assert exported.payload["rows"] == len(rows) - 1 == 2
    assert exported.payload["complete"] is True
    assert AuditEvent.objects.count() - before == 3


def test_an_xlsx_export_as_the_system_is_recorded_as_the_system(orders, tmp_path):
    xlsx_of(EVERYTHING, tmp_path)

    listed = AuditEvent.objects.filter(action="booking_request.listed")
    assert listed.count() == 3
    assert {(e.actor_kind, e.actor_detail, e.payload["list"]) for e in listed} == {
        ("system", "test export", "reconciliation export xlsx")
    }
    exported = AuditEvent.objects.get(action="reconciliation.exported")
    assert (exported.actor_kind, exported.payload["format"], exported.payload["rows"]) == (
        "system",
        "xlsx",
        3,
    )


# --- size -----------------------------------------------------------------------------------------


def test_the_csv_streams_in_chunks_with_a_bounded_number_of_queries(db):
    bulk_orders(4500)

    with CaptureQueriesContext(connection) as queries:
        chunks = csv_chunks(EVERYTHING, actor=SYSTEM)
        sizes = [chunk.count("\r\n") for chunk in chunks]

    assert sizes == [1, 2000, 2000, 500]  # the headings, then 2,000 rows at a time
    # One read of the table; the access records inserted per chunk by one INSERT ... SELECT:
    # nothing per row.
    sql = [q["sql"] for q in queries.captured_queries]
    reads = [q for q in sql if not q.startswith('INSERT INTO "core_auditevent"')]
    assert len(reads) == 1, reads  # a SELECT (SQLite) or a server-side cursor (PostgreSQL)
    assert '"reconciliation_reconciliation"' in reads[0]
    assert len(queries) < 4500 / 50
    assert AuditEvent.objects.filter(action="booking_request.listed").count() == 4500
    assert AuditEvent.objects.get(action="reconciliation.exported").payload["rows"] == 4500


def test_a_download_dropped_midway_is_recorded_as_incomplete(db):
    bulk_orders(2500)
    chunks = csv_chunks(EVERYTHING, actor=SYSTEM)
    next(chunks), next(chunks)  # the headings and the first 2,000 rows

    chunks.close()

    exported = AuditEvent.objects.get(action="reconciliation.exported")
    assert (exported.payload["rows"], exported.payload["complete"]) == (2000, False)
    assert AuditEvent.objects.filter(action="booking_request.listed").count() == 2000


def test_progress_is_told_per_chunk_with_the_total(db):
    bulk_orders(2100)
    told = []

    export_csv(EVERYTHING, io.StringIO(), actor=SYSTEM, progress=lambda d, t: told.append((d, t)))

    assert told == [(0, 2100), (2000, 2100), (2100, 2100)]


# --- the command ------------------------------------------------------------------------------


def run(*args: str, stderr=None) -> str:
    out = io.StringIO()
    call_command("export_reconciliation", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def dates() -> list[str]:
    today = timezone.localdate()
    return ["--from", (today - dt.timedelta(days=30)).isoformat(), "--to", today.isoformat()]


def test_the_command_writes_the_csv_of_the_dates_given(orders, tmp_path):
    bulk_orders(10, insurer=orders["northern"], start=timezone.localdate() - dt.timedelta(days=60))
    target = tmp_path / "recon.csv"

    out = run(*dates(), "--format", "csv", "-o", str(target))

    assert out == f"Wrote 3 rows to {target}\n"
    written = read_csv(target.read_text(encoding="utf-8"))
    today = timezone.localdate()
    where = TableFilter(date_from=today - dt.timedelta(days=30), date_to=today)
    assert written[1:] == [expected_csv(row) for row in every_row(where)]
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    exported = AuditEvent.objects.get(action="reconciliation.exported")
    assert exported.actor_kind == "system"
    assert exported.actor_detail == "export-reconciliation"


def test_the_command_writes_an_insurers_xlsx_as_a_named_user(orders, tmp_path, finance_user):
    target = tmp_path / "recon.xlsx"

    out = run(
        *dates(),
        "--insurer",
        "maple assist",
        "--status",
        "open",
        "--format",
        "xlsx",
        "-o",
        str(target),
        "--as",
        finance_user.username,
    )

    assert out == f"Wrote 1 row to {target}\n"
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == orders["cases"][0].order_id
    assert rows[-1][0] == "Total"
    assert list(tmp_path.iterdir()) == [target]
    listed = AuditEvent.objects.get(action="booking_request.listed")
    assert listed.actor_id == finance_user.pk
    assert listed.object_id == str(orders["cases"][0].pk)


def test_the_command_draws_a_progress_line_on_a_terminal_only(orders, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, piped = Terminal(), io.StringIO()
    run(*dates(), "--format", "csv", "-o", str(tmp_path / "a.csv"), stderr=terminal)
    run(*dates(), "--format", "csv", "-o", str(tmp_path / "b.csv"), stderr=piped)

    assert "\rExporting: 3 of 3 rows (100%)" in terminal.getvalue()
    assert piped.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "2026-11-30"], "--from is required"),
        (
            ["--from", "2026-13-01", "--to", "2026-11-30"],
            "--from must be a date written YYYY-MM-DD",
        ),
        (
            ["--from", "2026-12-01", "--to", "2026-11-30"],
            "--from 2026-12-01 is after --to 2026-11-30",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--insurer", "Nobody"],
            "No active insurance partner is called 'Nobody'",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--status", "closed"],
            "--status must be one of open, discrepancy, reconciled",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf"],
            "--format must be csv or xlsx, not 'pdf'",
        ),
        (["--from", "2026-11-01", "--to", "2026-11-30"], "--format is required"),
        (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"], "-o FILE is required"),
        (
            [
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "csv",
                "-o",
                "{missing}/out.csv",
            ],
            "no such folder",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "-o", "{tmp}"],
            "is a folder",
        ),
        (
            [
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "csv",
                "-o",
                "{tmp}/out.csv",
                "--as",
                "nobody",
            ],
            "No active user is called 'nobody'",
        ),
        (
            [
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "csv",
                "-o",
                "{tmp}/out.csv",
                "--as",
                "agent",
            ],
            "agent may not read the reconciliation table",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--colour", "red"],
            "unrecognized arguments: --colour red",
        ),
    ],
)
def test_each_bad_input_is_refused_with_status_2(args, says, tmp_path, booking_agent):
    args = [a.format(tmp=tmp_path, missing=tmp_path / "missing") for a in args]

    with pytest.raises(CommandError) as refused:
        run(*args)

    assert refused.value.returncode == 2
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_refused_with_status_2(tmp_path, monkeypatch):
    from medworks.reconciliation.management.commands import export_reconciliation

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export_reconciliation.tempfile, "mkstemp", refuse)
    with pytest.raises(CommandError) as refused:
        run(*dates(), "--format", "csv", "-o", str(tmp_path / "recon.csv"))

    assert refused.value.returncode == 2
    assert str(refused.value) == f"{tmp_path}: cannot write there (Permission denied)."
    assert not AuditEvent.objects.filter(action="reconciliation.exported").exists()


def test_a_failed_export_leaves_no_file(orders, tmp_path, monkeypatch):
    from medworks.reconciliation.management.commands import export_reconciliation

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_reconciliation, "export_csv", fail)
    with pytest.raises(OSError):
        run(*dates(), "--format", "csv", "-o", str(tmp_path / "recon.csv"))

    assert list(tmp_path.iterdir()) == []


# --- the installed console script: one line on stderr, status 2, no traceback ------------------


@pytest.fixture(scope="module")
def script_env(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("medworks-data")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="medworks.settings")
    return env


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--from", "01/11/2026", "--to", "2026-11-30", "--format", "csv", "-o", "x.csv"],
            "--from must be a date written YYYY-MM-DD",
        ),
        (
            ["--from", "2026-12-01", "--to", "2026-11-30", "--format", "csv", "-o", "x.csv"],
            "is after --to",
        ),
        (
            ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "ods", "-o", "x.ods"],
            "--format must be csv or xlsx",
        ),
        (
            [
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "csv",
                "-o",
                "/nowhere/x.csv",
            ],
            "/nowhere: no such folder",
        ),
        (["--from", "2026-11-01", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_the_script_refuses_bad_input_in_one_line_with_status_2(script_env, tmp_path, args, says):
    result = subprocess.run(
        [str(MEDWORKS), "export-reconciliation", *args],
        env=script_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
