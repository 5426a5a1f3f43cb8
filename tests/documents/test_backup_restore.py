"""Backups (issue 15): `medworks backup` writes one encrypted archive of the database and the
document store; `medworks restore` brings it back into an empty database and an empty store,
table for table, row for row, byte for byte. A wrong key, a changed byte, a file cut short or a
target that is not empty is refused with one line and status 2, before anything is touched.

The round trip runs on the database the suite runs on (SQLite, or PostgreSQL when DATABASE_URL
says so) and restores into another one: a new PostgreSQL database on the same server, or a
SQLite file. Its tests are transactional: pg_dump reads committed data only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import secrets
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from medworks.billing.invoices import payment_record
from medworks.billing.models import Invoice, PaymentReceived
from medworks.bookings.models import BookingRequest
from medworks.documents import backup as backups
from medworks.documents import gops
from medworks.documents import services as documents
from medworks.documents.models import DocumentKind, DocumentVersion
from medworks.documents.storage import EncryptedFileSystemStorage
from medworks.network.models import BillingArrangement
from medworks.payments.charges import card_charge
from medworks.payments.gateway import OfflineGateway
from medworks.payments.models import CardCharge, StoredCard
from medworks.payments.vault import card_store
from medworks.settings import _backup_key
from tests import factories
from tests.billing.invoicing import issued_invoice, make_insurer, ready_case
from tests.documents import samples
from tests.factories import act

KEY = secrets.token_bytes(32)
OTHER_KEY = secrets.token_bytes(32)
transactional = pytest.mark.django_db(transaction=True)
# The refusals need an archive, not the test's own rows. On PostgreSQL pg_dump reads the
# committed (seeded) data from its own connection, beside the test's transaction, and a
# transactional test's flush would cost seconds; SQLite's backup API cannot copy a database its
# own connection holds a transaction open on (backup refuses it), so there they commit.
refusals = pytest.mark.django_db(transaction=connection.vendor == "sqlite")


@pytest.fixture(autouse=True)
def backup_key(settings):
    settings.MEDWORKS_BACKUP_KEY = KEY


@dataclass
class Target:
    """An empty database to restore into, and how to read it back."""

    url: str
    vendor: str
    name: str

    def params(self) -> dict:
        return {**_pg_params(), "dbname": self.name}


def _pg_params() -> dict:
    settings = connection.settings_dict
    given = {
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    return {k: str(v) for k, v in given.items() if v}


@pytest.fixture(scope="module")
def _scratch_postgresql_database():
    """One new database on the suite's PostgreSQL server for this module, dropped after (on
    SQLite, None)."""
    if connection.vendor != "postgresql":
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"medworks_restore_test_{secrets.token_hex(4)}"
    with psycopg.connect(**_pg_params(), dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**_pg_params(), dbname="postgres", autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def empty_database(tmp_path, _scratch_postgresql_database):
    """An empty database to restore into. PostgreSQL: the module's scratch database, its
    schema emptied before each test (quicker than a new database each time); SQLite: a path
    where no file is yet."""
    if _scratch_postgresql_database is None:
        path = tmp_path / "restored.sqlite3"
        return Target(url=f"sqlite:///{path}", vendor="sqlite", name=str(path))
    import psycopg

    name = _scratch_postgresql_database
    with psycopg.connect(**_pg_params(), dbname=name, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    p = _pg_params()
    auth = quote(p.get("user", "postgres")) + (
        ":" + quote(p["password"]) if p.get("password") else ""
    )
    url = f"postgres://{auth}@{p.get('host', 'localhost')}:{p.get('port', '5432')}/{name}"
    return Target(url=url, vendor="postgresql", name=name)


@pytest.fixture
def other_store(tmp_path) -> Path:
    """Another, empty, document store (restored into by --documents-dir)."""
    return tmp_path / "restored-documents"


# --- Reading both sides ----------------------------------------------------------------------


def _normal(value):
    return bytes(value) if isinstance(value, memoryview) else value


def _rows_of(conn, tables: list[str], quote_char: str = '"') -> dict[str, list[tuple]]:
    out = {}
    for table in tables:
        cursor = conn.execute(f"SELECT * FROM {quote_char}{table}{quote_char}")
        rows = [tuple(_normal(v) for v in row) for row in cursor.fetchall()]
        out[table] = sorted(rows, key=repr)
    return out


_PG_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1"
)


def _pg_everything(params: dict) -> tuple[dict[str, list[tuple]], list[tuple]]:
    import psycopg

    with psycopg.connect(**params) as conn:
        tables = [row[0] for row in conn.execute(_PG_TABLES)]
        sequences = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"
        ).fetchall()
        return _rows_of(conn, tables), sequences


def _sqlite_everything(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    tables = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    return _rows_of(conn, tables)


def source_and_restored(target: Target) -> tuple[dict, dict]:
    """Every table's rows (sorted), read with a raw cursor from the suite's database and from
    the restored one (PostgreSQL: with the sequences' positions)."""
    if target.vendor == "postgresql":
        source, source_sequences = _pg_everything(
            {**_pg_params(), "dbname": connection.settings_dict["NAME"]}
        )
        restored, restored_sequences = _pg_everything(target.params())
        source["<sequences>"], restored["<sequences>"] = source_sequences, restored_sequences
        return source, restored
    connection.ensure_connection()
    source = _sqlite_everything(connection.connection)
    restored_conn = sqlite3.connect(
        target.name, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    try:
        return source, _sqlite_everything(restored_conn)
    finally:
        restored_conn.close()


def _cards_of(conn) -> dict[int, dict]:
    cursor = conn.execute(f"SELECT * FROM {StoredCard._meta.db_table}")
    names = [column[0] for column in cursor.description]
    return {row[0]: dict(zip(names, map(_normal, row), strict=True)) for row in cursor.fetchall()}


def cards_source_and_restored(target: Target) -> tuple[dict, dict]:
    """The stored cards, column by column, in the suite's database and in the restored one."""
    if target.vendor == "postgresql":
        import psycopg

        source = {**_pg_params(), "dbname": connection.settings_dict["NAME"]}
        with psycopg.connect(**source) as a, psycopg.connect(**target.params()) as b:
            return _cards_of(a), _cards_of(b)
    connection.ensure_connection()
    restored = sqlite3.connect(
        target.name, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    try:
        return _cards_of(connection.connection), _cards_of(restored)
    finally:
        restored.close()


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def target_tables(target: Target) -> list[str]:
    if target.vendor == "postgresql":
        import psycopg

        with psycopg.connect(**target.params()) as conn:
            return [row[0] for row in conn.execute(_PG_TABLES)]
    if not Path(target.name).exists():
        return []
    with sqlite3.connect(target.name) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]


# --- The world: cases, documents, payments ---------------------------------------------------


@pytest.fixture
def desk_at_work(booked_case, clinic_user, insurer_user, booking_agent, finance_user):
    """A case with its paperwork (an insurer form, a GOP, the clinic's signed form), and a case
    at a pre-paid clinic invoiced, its card stored, charged, and a cheque received."""
    documents.document_upload(
        case=booked_case,
        kind=DocumentKind.INSURER_FORM,
        file=_upload(samples.pdf("Insurer form")),
        filename="insurer-form.pdf",
        actor=act(booking_agent),
    )
    today = timezone.localdate()
    gops.gop_issue(
        case=booked_case,
        data={
            "authorised_services": ["XRAY"],
            "valid_from": today,
            "valid_to": today + dt.timedelta(days=30),
            "max_amount": "500.00",
        },
        actor=act(insurer_user),
        file=_upload(samples.pdf("GOP")),
        filename="gop.pdf",
    )
    factories.appointment_time_passes(booked_case)
    documents.document_upload(
        case=booked_case,
        kind=DocumentKind.COMPLETED_FORM,
        file=_upload(samples.pdf("Signed")),
        filename="signed.pdf",
        actor=act(clinic_user),
        signed_by="Dr. Anne Roy",
        signed_on=today,
        attested=True,
    )

    insurer = make_insurer(finance_user, name="Maple Assist Travel")
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.CREDIT_CARD, BillingArrangement.INSURER_CARD],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    prepaid = ready_case(insurer=insurer, location=location, agent=booking_agent)
    invoice = issued_invoice(case=prepaid, finance_user=finance_user)
    card_store(
        case=prepaid,
        number="4111 1111 1111 1111",
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(today.year + 2),
        security_code="123",
        actor=act(booking_agent),
    )
    OfflineGateway.reset()
    card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="b" * 32)
    second = ready_case(insurer=insurer, location=location, agent=booking_agent)
    issued_invoice(case=second, finance_user=finance_user)
    # Not charged yet: its security code is still in the vault when the backup is taken.
    card_store(
        case=second,
        number="5555 5555 5555 4444",
        name_on_card="Isabel Insurer",
        expiry_month="09",
        expiry_year=str(today.year + 2),
        security_code="456",
        actor=act(booking_agent),
    )
    payment_record(
        insurer=insurer,
        amount=Decimal("50.00"),
        received_on=today,
        method="cheque",
        reference="Cheque 1042",
        actor=act(finance_user),
    )
    OfflineGateway.reset()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("form.pdf", data, content_type="application/octet-stream")


def run_backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", "-o", str(path), stdout=out)
    return out.getvalue()


def run_restore(path: Path, target: Target, store: Path) -> str:
    out = io.StringIO()
    call_command(
        "restore", str(path), database_url=target.url, documents_dir=str(store), stdout=out
    )
    return out.getvalue()


def refused(command: str, *args, **options) -> str:
    with pytest.raises(CommandError) as failed:
        call_command(command, *args, stdout=io.StringIO(), **options)
    assert failed.value.returncode == 2
    message = str(failed.value)
    assert "\n" not in message
    return message


# --- The round trip --------------------------------------------------------------------------


@transactional
def test_a_backup_restored_into_an_empty_database_has_every_row_and_every_file(
    desk_at_work, document_store, empty_database, other_store, tmp_path
):
    archive = tmp_path / "nightly.mwb"

    said = run_backup(archive)
    restored = run_restore(archive, empty_database, other_store)

    versions = list(DocumentVersion.objects.all())
    assert len(versions) == 3
    assert f"and {len(versions)} documents" in said and "Backed up" in said
    assert f"and {len(versions)} documents" in restored and "Restored" in restored
    source, copy = source_and_restored(empty_database)
    # Every model's table, the many-to-many tables and Django's own are there, row for row.
    expected_tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert expected_tables <= set(source)
    assert {"django_migrations", "django_content_type"} <= set(source)
    assert set(copy) == set(source)
    cards = StoredCard._meta.db_table
    for table in sorted(source):
        if table != cards:
            assert copy[table] == source[table], table
    # The cards, all but one column for column: no security code came back (PCI DSS 3.3.1),
    # that of the card not yet charged reads as destroyed, as after MEDWORKS_CVC_MAX_HOURS.
    assert len(copy[cards]) == len(source[cards])
    source_cards, copied_cards = cards_source_and_restored(empty_database)
    waiting = StoredCard.objects.get(security_code_sealed__isnull=False)
    assert set(copied_cards) == set(source_cards) and len(source_cards) >= 2
    for pk, card in source_cards.items():
        copied = copied_cards[pk]
        assert copied["security_code_sealed"] is None, pk
        if pk == waiting.pk:
            assert card["security_code_sealed"] is not None
            assert card["security_code_destroyed_at"] is None
            assert copied["security_code_destroyed_at"] is not None
            assert copied["number_sealed"] == card["number_sealed"] is not None
            card = {**card, "security_code_sealed": None, "security_code_destroyed_at": None}
            copied = {**copied, "security_code_destroyed_at": None}
        else:
            assert card["security_code_sealed"] is None
        assert copied == card, pk
    for model, at_least in (
        (BookingRequest, 3),
        (DocumentVersion, 3),
        (Invoice, 2),
        (PaymentReceived, 2),
        (StoredCard, 1),
        (CardCharge, 1),
    ):
        assert len(source[model._meta.db_table]) >= at_least, model
    # The document store: the same sealed bytes under the same names, which open with the
    # desk's key to what was uploaded.
    stored = files_under(document_store)
    assert len(stored) == 3
    assert files_under(other_store) == stored
    reopened = EncryptedFileSystemStorage(location=str(other_store))
    for version in versions:
        with reopened.open(version.storage_name) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == version.sha256


@transactional
def test_the_archive_is_encrypted_and_its_manifest_counts_the_rows(
    desk_at_work, document_store, tmp_path
):
    archive = tmp_path / "nightly.mwb"

    run_backup(archive)

    data = archive.read_bytes()
    assert data.startswith(backups.MAGIC)
    assert b"Isabel" not in data and b"manifest.json" not in data and b"%PDF" not in data
    with archive.open("rb") as raw:
        plain = backups._OpeningReader(raw, KEY, name="x").read()
    assert b"manifest.json" in plain and b"database.dump" in plain
    (tmp_path / "work").mkdir()
    opened = backups._open_archive(archive, KEY, tmp_path / "work")
    table = BookingRequest._meta.db_table
    counts = opened.manifest["database"]["tables"]
    counted = {name.rpartition(".")[2]: rows for name, rows in counts.items()}
    assert counted[table] == BookingRequest.objects.count() == 3
    assert opened.manifest["migrations"]["documents"].startswith("00")
    assert opened.manifest["database"]["vendor"] == connection.vendor
    assert len(opened.documents) == 3


def _pg_dump_as_sql(dump: Path) -> bytes:
    done = subprocess.run(
        ["pg_restore", "--file=-", str(dump)], capture_output=True, check=True, timeout=60
    )
    return done.stdout


@transactional
def test_the_archive_holds_no_security_code(desk_at_work, document_store, tmp_path):
    """PCI DSS 3.3.1: a security code is not kept after authorisation, even encrypted; the
    card's number, sealed, is (until its payment), and is found where the code is not."""
    waiting = StoredCard.objects.get(security_code_sealed__isnull=False)
    code, number = bytes(waiting.security_code_sealed), bytes(waiting.number_sealed)
    archive = tmp_path / "nightly.mwb"

    run_backup(archive)

    with archive.open("rb") as raw:
        plain = backups._OpeningReader(raw, KEY, name="x").read()
    (tmp_path / "work").mkdir()
    opened = backups._open_archive(archive, KEY, tmp_path / "work")
    database = opened.dump.read_bytes()
    if connection.vendor == "postgresql":  # the custom format is compressed: read it as SQL
        database += _pg_dump_as_sql(opened.dump) + opened.cards.read_bytes()
    for where in (plain, database):
        assert code not in where and code.hex().encode() not in where
    assert number in database or number.hex().encode() in database
    assert StoredCard.objects.get(pk=waiting.pk).security_code_sealed is not None


def test_the_names_of_the_stored_cards_columns_are_the_models():
    assert StoredCard._meta.db_table == backups.CARDS_TABLE
    for column in (backups.CODE_COLUMN, backups.CODE_DESTROYED_COLUMN):
        assert StoredCard._meta.get_field(column).column == column


# --- Refusals --------------------------------------------------------------------------------


@pytest.fixture
def archive(document_store, tmp_path) -> Path:
    """A backup of the seeded database with one document."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    storages["documents"].save("unassigned/MW-2026-000001/other/1", ContentFile(b"a paper"))
    path = tmp_path / "archive.mwb"
    run_backup(path)
    return path


@refusals
def test_a_wrong_key_is_refused_and_nothing_restored(
    archive, settings, empty_database, other_store
):
    settings.MEDWORKS_BACKUP_KEY = OTHER_KEY

    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "made with another MEDWORKS_BACKUP_KEY" in says
    assert target_tables(empty_database) == [] and not other_store.exists()


@refusals
def test_a_flipped_byte_is_refused(archive, empty_database, other_store):
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))

    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "is damaged or truncated" in says and "does not open" in says
    assert target_tables(empty_database) == [] and not other_store.exists()


@refusals
@pytest.mark.parametrize("cut", [1, 4096])
def test_a_truncated_archive_is_refused(cut, archive, empty_database, other_store):
    archive.write_bytes(archive.read_bytes()[:-cut])

    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "is damaged or truncated" in says
    assert target_tables(empty_database) == [] and not other_store.exists()


@refusals
def test_not_a_backup_is_refused(tmp_path, empty_database, other_store):
    stray = tmp_path / "notes.txt"
    stray.write_bytes(b"not a backup at all, but long enough to have a header")

    says = refused(
        "restore", str(stray), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "is not a MedWorks backup" in says


@refusals
def test_a_database_that_is_not_empty_is_refused(archive, empty_database, other_store):
    if empty_database.vendor == "postgresql":
        import psycopg

        with psycopg.connect(**empty_database.params(), autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (body text)")
    else:
        with sqlite3.connect(empty_database.name) as conn:
            conn.execute("CREATE TABLE notes (body text)")

    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "is not empty: a backup is restored only into an empty one" in says
    assert target_tables(empty_database) == ["notes"] and not other_store.exists()


@refusals
def test_the_configured_database_in_use_is_refused(archive, other_store):
    """The suite's own database has the desk's tables (SQLite: in memory, not a file)."""
    says = refused("restore", str(archive), documents_dir=str(other_store))

    if connection.vendor == "postgresql":
        assert "is not empty" in says
    else:
        assert "A SQLite database is restored into a file" in says


@refusals
def test_a_document_store_that_is_not_empty_is_refused(archive, empty_database, other_store):
    (other_store / "somebody").mkdir(parents=True)
    (other_store / "somebody" / "file").write_bytes(b"x")

    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "The document storage is not empty" in says
    assert target_tables(empty_database) == []


@refusals
def test_an_archive_of_a_newer_version_is_refused(
    document_store, tmp_path, monkeypatch, empty_database, other_store
):
    for name in ("_pg_state", "_sqlite_state"):
        original = getattr(backups, name)

        def with_a_future_migration(*args, _original=original):
            counts, migrations = _original(*args)
            return counts, {**migrations, "bookings": "9999_from_the_future"}

        monkeypatch.setattr(backups, name, with_a_future_migration)
    path = tmp_path / "future.mwb"
    run_backup(path)
    monkeypatch.undo()

    says = refused(
        "restore", str(path), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "made by a newer version of MedWorks" in says and "9999_from_the_future" in says
    assert target_tables(empty_database) == []


@refusals
def test_a_backup_needs_a_key_and_says_how_to_make_one(settings, tmp_path):
    settings.MEDWORKS_BACKUP_KEY = None

    says = refused("backup", "-o", str(tmp_path / "a.mwb"))

    assert "MEDWORKS_BACKUP_KEY is not set" in says and "secrets.token_bytes(32)" in says
    assert list(tmp_path.iterdir()) == []


@refusals
def test_the_documents_key_is_not_a_backup_key(settings, tmp_path):
    settings.MEDWORKS_BACKUP_KEY = settings.MEDWORKS_DOCUMENT_KEY

    says = refused("backup", "-o", str(tmp_path / "a.mwb"))

    assert "must be a key of its own" in says


@refusals
def test_a_backup_never_overwrites_nor_writes_into_a_missing_folder(archive, tmp_path):
    before = archive.read_bytes()

    assert "exists: a backup never overwrites a file" in refused("backup", "-o", str(archive))
    assert archive.read_bytes() == before
    missing = tmp_path / "nowhere" / "a.mwb"
    assert "no such folder" in refused("backup", "-o", str(missing))


@refusals
def test_a_failed_backup_leaves_no_file(document_store, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups, "_add_path", broken)
    out = tmp_path / "out"
    out.mkdir()

    says = refused("backup", "-o", str(out / "a.mwb"))

    assert "No space left on device" in says
    assert list(out.iterdir()) == []


@refusals
@pytest.mark.postgres_only
def test_without_pg_dump_or_pg_restore_the_commands_say_so(
    archive, monkeypatch, tmp_path, empty_database, other_store
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))

    assert "pg_dump is not installed" in refused("backup", "-o", str(tmp_path / "b.mwb"))
    says = refused(
        "restore", str(archive), database_url=empty_database.url, documents_dir=str(other_store)
    )
    assert "pg_restore is not installed" in says
    assert target_tables(empty_database) == []


@refusals
@pytest.mark.postgres_only
def test_a_failure_after_the_cards_rows_leaves_the_database_empty(
    document_store, tmp_path, monkeypatch, empty_database, other_store
):
    """PostgreSQL: the dump and the cards' rows are restored by one psql in one transaction."""
    original = backups._pg_copy_cards

    def then_a_failure(conn, cards, fh):
        original(conn, cards, fh)
        fh.write(b"SELECT 1 / 0;\n")

    monkeypatch.setattr(backups, "_pg_copy_cards", then_a_failure)
    path = tmp_path / "broken.mwb"
    run_backup(path)

    says = refused(
        "restore", str(path), database_url=empty_database.url, documents_dir=str(other_store)
    )

    assert "psql failed" in says and "division by zero" in says
    assert target_tables(empty_database) == [] and not other_store.exists()


@refusals
@pytest.mark.postgres_only
def test_a_missing_target_database_is_named_with_how_to_create_it(archive, other_store):
    url = connection.settings_dict
    target = f"postgres://{url['USER'] or 'postgres'}@{url['HOST'] or 'localhost'}:" + (
        f"{url['PORT'] or 5432}/medworks_restore_test_never_created"
    )

    says = refused("restore", str(archive), database_url=target, documents_dir=str(other_store))

    assert "does not exist: create it empty first" in says


@refusals
def test_the_console_prints_one_line_and_exits_2_on_a_wrong_key(archive, tmp_path):
    env = {
        **os.environ,
        "MEDWORKS_DATA_DIR": str(tmp_path / "data"),
        "MEDWORKS_BACKUP_KEY": base64.b64encode(OTHER_KEY).decode(),
    }
    medworks = Path(sys.executable).with_name("medworks")

    done = subprocess.run(
        [str(medworks), "restore", str(archive), "--database-url", f"sqlite:///{tmp_path}/r.db"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "made with another MEDWORKS_BACKUP_KEY" in done.stderr


# --- The encrypted stream itself -------------------------------------------------------------


def _sealed(plaintext: bytes, chunk: int = 16) -> bytes:
    out = io.BytesIO()
    writer = backups._SealingWriter(out, KEY, chunk_bytes=chunk)
    writer.write(plaintext)
    writer.finish()
    return out.getvalue()


def _opened(sealed: bytes) -> bytes:
    reader = backups._OpeningReader(io.BytesIO(sealed), KEY, name="x")
    data = reader.read()
    reader.drain()
    return data


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 64, 100])
def test_the_stream_opens_to_what_was_sealed(size):
    plaintext = secrets.token_bytes(size)

    assert _opened(_sealed(plaintext)) == plaintext


def test_chunks_cut_at_a_boundary_reordered_or_added_to_do_not_open():
    header, full = backups.HEADER_BYTES, 16 + backups.TAG_BYTES
    sealed = _sealed(b"0123456789abcdef" * 4)  # four full chunks, then an empty final one
    chunks = [sealed[header + i * full : header + (i + 1) * full] for i in range(4)]

    cut_at_a_boundary = sealed[: header + 4 * full]
    swapped = sealed[:header] + chunks[1] + chunks[0] + b"".join(chunks[2:]) + sealed[-16:]
    for broken, why in (
        (cut_at_a_boundary, "ends before its last part"),
        (swapped, "part 1 does not open"),
        (sealed + b"more", "does not open"),
        (sealed[:-1], "does not open"),
    ):
        with pytest.raises(backups.BackupError) as failed:
            _opened(broken)
        assert why in failed.value.message


def test_two_archives_of_the_same_bytes_differ():
    assert _sealed(b"same") != _sealed(b"same")


def test_the_backup_key_setting_takes_base64_of_32_bytes_in_either_alphabet():
    key = bytes([0xFB, 0xFF] * 16)  # + and / in standard base64, - and _ in urlsafe

    assert _backup_key(base64.b64encode(key).decode()) == key
    assert _backup_key(base64.urlsafe_b64encode(key).decode()) == key
    assert _backup_key("") is None
    with pytest.raises(ImproperlyConfigured):
        _backup_key(base64.b64encode(b"short").decode())
