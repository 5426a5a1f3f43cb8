"""Backups: the database and the document store in one encrypted archive, and back.

`backup(out_path, key=...)` writes one file; `restore(in_path, key=...)` brings it back into an
EMPTY database and an EMPTY document store (`medworks backup -o FILE`, `medworks restore FILE`).
It lives in `documents` because it reads and writes the document storage; it imports nothing
above that layer.

The archive, before encryption, is a tar (streamed, never held in memory) of:

- `database.dump`: PostgreSQL, `pg_dump --format=custom --no-owner --no-privileges` taken in a
  snapshot we export (`pg_export_snapshot()`, `pg_dump --snapshot`), so the row counts of the
  manifest are those of the dump, while the desk keeps running; SQLite, a copy made with the
  SQLite backup API (`sqlite3.Connection.backup`), consistent while others write.
- No card's security code, ever (PCI DSS 3.3.1: not kept after authorisation, even
  encrypted; the live database destroys it at the payment or after MEDWORKS_CVC_MAX_HOURS, a
  backup would keep it as long as the backup is kept). In the archive every stored card has
  `security_code_sealed` NULL and, if it still had one, `security_code_destroyed_at` the
  backup's time: restored, it reads as "destroyed", as after the deadline. SQLite: the copy
  is updated (secure_delete, then VACUUM: no old bytes left in the file). PostgreSQL: the
  dump leaves out the rows of `payments_storedcard` (`--exclude-table-data`; its schema and
  sequence stay), and `database.cards.sql` holds them, the code NULL, as a psql
  `COPY ... FROM stdin` block read by `COPY (SELECT ...) TO STDOUT` in the transaction that
  holds the exported snapshot: the same rows the dump and the manifest see.
- `documents/<name>`: every file of the document storage, read through the Storage API
  (`listdir` and `open`, so S3 and the like work too) *below* the encrypting layer: the sealed
  blobs exactly as stored (still encrypted with MEDWORKS_DOCUMENT_KEY). The database is dumped
  first: a document row the dump holds always has its file stored before it (the service
  stores, then commits), so it is in the listing made after.
- `manifest.json`, last: format version, created_at, the database vendor, the latest applied
  migration per app, the rows of every table (in the dump's snapshot), and the size and
  sha256 of every other member.

The tar is encrypted with AES-256-GCM in chunks (the `cryptography` package):

    header = b"MWB1" | salt (16) | key check (16) | chunk size (4, big-endian)
    then chunks: AES-GCM(subkey, nonce = chunk index (12 bytes, big-endian),
                         plaintext of `chunk size` bytes, the last one shorter (maybe empty),
                         associated data = header | chunk index (8) | final flag (1))

The subkey and the key check are derived from MEDWORKS_BACKUP_KEY and the archive's random salt
(HKDF-SHA256), so every archive has its own key and counter nonces never repeat. A wrong key
is told by the key check; a changed byte, chunks reordered or dropped, or a file cut short (at
a chunk boundary or not: only the last chunk is shorter and flagged final) by GCM.

Restore decrypts and checks every chunk and every member's sha256 into a private temporary
folder BEFORE it touches anything, then refuses unless the target database has no table at
all (a new `createdb`, or a SQLite file that does not exist yet: a migrated database, even
empty, is refused, since the dump creates the schema itself and never mixes with another)
and the document storage holds no file. PostgreSQL: pg_restore writes the dump's pre-data,
data and post-data sections as SQL scripts (beside the decrypted archive, in the work folder),
and one `psql --single-transaction -v ON_ERROR_STOP=1` runs them with `database.cards.sql`
between data and post-data (constraints and indexes after all rows, as pg_restore does): a
failure leaves the database empty again; SQLite: the file is put in place by a rename.
Finally the rows of every table are counted and compared with the manifest.

Every refusal is a `BackupError` (a DomainError) with one message that says what to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.core.errors import DomainError
from medworks.documents.storage import MAGIC as DOCUMENT_MAGIC
from medworks.documents.storage import (
    EncryptedFileSystemStorage,
    EncryptedStorage,
)
from medworks.documents.storage import _key_id as document_key_id

FORMAT = "medworks-backup"
FORMAT_VERSION = 1
MAGIC = b"MWB1"
SALT_BYTES = 16
CHECK_BYTES = 16
TAG_BYTES = 16
CHUNK_BYTES = 1 << 20  # 1 MiB of plaintext per chunk
MAX_CHUNK_BYTES = 1 << 24  # a header asking for more is not ours
HEADER_BYTES = len(MAGIC) + SALT_BYTES + CHECK_BYTES + 4
COPY_BYTES = 1 << 20
MANIFEST = "manifest.json"
DATABASE = "database.dump"
CARDS = "database.cards.sql"
DOCUMENTS = "documents/"
MAKE_A_KEY = (
    'python -c "import secrets,base64;print(base64.b64encode(secrets.token_bytes(32)).decode())"'
)
# PCI DSS 3.3.1: a card's security code is not kept after authorisation, even encrypted, so a
# backup never holds one. The stored cards' table and columns (payments.StoredCard: this layer
# does not import it; tests/documents/test_backup_restore.py checks the names still match).
CARDS_TABLE = "payments_storedcard"
CODE_COLUMN = "security_code_sealed"
CODE_DESTROYED_COLUMN = "security_code_destroyed_at"
# Django's OPTIONS of a PostgreSQL database that are not libpq connection parameters.
_NOT_LIBPQ = {"isolation_level", "server_side_binding", "pool", "assume_role", "options"}
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(DomainError):
    """A backup or restore refused or failed: one message saying what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    vendor: str
    archive_bytes: int
    database_bytes: int
    tables: int
    rows: int
    documents: int
    document_bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    vendor: str
    created_at: str
    archive_bytes: int
    tables: int
    rows: int
    documents: int
    document_bytes: int
    seconds: float
    migrations: dict[str, str] = field(default_factory=dict)


# --- The key ---------------------------------------------------------------------------------


def backup_key_from_settings() -> bytes:
    """settings.MEDWORKS_BACKUP_KEY, or BackupError saying how to make one."""
    key = getattr(settings, "MEDWORKS_BACKUP_KEY", None)
    if not key:
        raise BackupError(
            "backup_no_key",
            _(
                "MEDWORKS_BACKUP_KEY is not set. Make one with %(command)s, keep it apart from "
                "the backups, and set it in the environment."
            )
            % {"command": MAKE_A_KEY},
        )
    return _checked_key(key)


def _checked_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != 32:
        raise BackupError(
            "backup_bad_key", _("MEDWORKS_BACKUP_KEY must be 32 random bytes in base64.")
        )
    others = [settings.MEDWORKS_DOCUMENT_KEY] + [k for _id, k in settings.MEDWORKS_CARD_KEYS]
    if any(hmac.compare_digest(key, other) for other in others):
        raise BackupError(
            "backup_key_reused",
            _(
                "MEDWORKS_BACKUP_KEY must be a key of its own, not the documents' or the card "
                "vault's."
            ),
        )
    return key


def _derive(key: bytes, salt: bytes, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=purpose).derive(key)


# --- The encrypted stream --------------------------------------------------------------------


class _SealingWriter:
    """A write-only file object that encrypts what it is given, chunk by chunk, into `raw`."""

    def __init__(self, raw: BinaryIO, key: bytes, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        salt = os.urandom(SALT_BYTES)
        self.header = (
            MAGIC
            + salt
            + _derive(key, salt, b"medworks-backup key check", CHECK_BYTES)
            + chunk_bytes.to_bytes(4, "big")
        )
        self.aead = AESGCM(_derive(key, salt, b"medworks-backup chunks", 32))
        self.raw = raw
        self.chunk_bytes = chunk_bytes
        self.buffer = bytearray()
        self.index = 0
        self.written = len(self.header)
        raw.write(self.header)

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) >= self.chunk_bytes:
            self._emit(bytes(self.buffer[: self.chunk_bytes]), final=False)
            del self.buffer[: self.chunk_bytes]
        return len(data)

    def finish(self) -> None:
        """The last chunk: always shorter than a full one (maybe empty), flagged final."""
        self._emit(bytes(self.buffer), final=True)
        self.buffer.clear()

    def _emit(self, plaintext: bytes, *, final: bool) -> None:
        sealed = self.aead.encrypt(
            self.index.to_bytes(12, "big"), plaintext, _chunk_ad(self.header, self.index, final)
        )
        self.raw.write(sealed)
        self.written += len(sealed)
        self.index += 1


def _chunk_ad(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class _OpeningReader:
    """A read-only file object of the plaintext of an archive; every chunk is authenticated
    before a byte of it is given out, and the end is the final chunk, nothing after it."""

    def __init__(self, raw: BinaryIO, key: bytes, *, name: str) -> None:
        self.raw, self.name = raw, name
        header = _read_exactly(raw, HEADER_BYTES)
        if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
            raise _not_a_backup(name)
        salt = header[len(MAGIC) : len(MAGIC) + SALT_BYTES]
        check = header[len(MAGIC) + SALT_BYTES : len(MAGIC) + SALT_BYTES + CHECK_BYTES]
        self.chunk_bytes = int.from_bytes(header[-4:], "big")
        if not 1 <= self.chunk_bytes <= MAX_CHUNK_BYTES:
            raise _not_a_backup(name)
        if not hmac.compare_digest(
            check, _derive(key, salt, b"medworks-backup key check", CHECK_BYTES)
        ):
            raise BackupError(
                "backup_wrong_key",
                _(
                    "%(file)s was made with another MEDWORKS_BACKUP_KEY: set the key it was "
                    "made with."
                )
                % {"file": name},
            )
        self.header = header
        self.aead = AESGCM(_derive(key, salt, b"medworks-backup chunks", 32))
        self.index = 0
        self.done = False
        self.pending = b""
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self.offset >= len(self.pending):
                if self.done:
                    break
                self.pending, self.offset = self._next_chunk(), 0
                continue
            want = len(self.pending) - self.offset if size < 0 else size - len(out)
            out += self.pending[self.offset : self.offset + want]
            self.offset += want
        return bytes(out)

    def drain(self) -> None:
        """Reads (and so authenticates) up to the final chunk and checks nothing follows."""
        while not self.done:
            self._next_chunk()
        self.pending, self.offset = b"", 0

    def _next_chunk(self) -> bytes:
        sealed = _read_exactly(self.raw, self.chunk_bytes + TAG_BYTES)
        if not sealed:
            raise _damaged(self.name, _("it ends before its last part"))
        final = len(sealed) < self.chunk_bytes + TAG_BYTES
        try:
            plaintext = self.aead.decrypt(
                self.index.to_bytes(12, "big"), sealed, _chunk_ad(self.header, self.index, final)
            )
        except InvalidTag:
            raise _damaged(
                self.name, _("part %(index)s does not open") % {"index": self.index + 1}
            ) from None
        self.index += 1
        if final:
            self.done = True
            if self.raw.read(1):
                raise _damaged(self.name, _("there is data after its last part"))
        return plaintext


def _read_exactly(raw: BinaryIO, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = raw.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _not_a_backup(name: str) -> BackupError:
    return BackupError(
        "backup_not_an_archive", _("%(file)s is not a MedWorks backup.") % {"file": name}
    )


def _damaged(name: str, why: str) -> BackupError:
    return BackupError(
        "backup_damaged",
        _("%(file)s is damaged or truncated (%(why)s): nothing was restored.")
        % {"file": name, "why": why},
    )


# --- The document storage, below its encryption ----------------------------------------------


def raw_storage(storage: Storage) -> Storage:
    """The storage the documents' sealed blobs are kept in (what the encrypting layer wraps)."""
    if isinstance(storage, EncryptedStorage):
        return storage.inner
    if isinstance(storage, EncryptedFileSystemStorage):
        return FileSystemStorage(location=storage.location)
    return storage


def _stored_names(storage: Storage, path: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(path)
    except FileNotFoundError:
        if path:
            raise
        return  # a store that never held a file has no folder yet
    prefix = f"{path}/" if path else ""
    for name in sorted(files):
        yield prefix + name
    for folder in sorted(folders):
        yield from _stored_names(storage, prefix + folder)


class _HashingReader:
    def __init__(self, raw) -> None:
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if isinstance(data, str):
            data = data.encode()
        self.sha256.update(data)
        self.size += len(data)
        return data


# --- The databases ---------------------------------------------------------------------------


def _vendor(database: dict) -> str:
    engine = database.get("ENGINE", "")
    if engine.endswith("postgresql") or "postgis" in engine:
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(
        "backup_unsupported_database",
        _("Backups know PostgreSQL and SQLite, not %(engine)s.") % {"engine": engine},
    )


def _pg_params(database: dict) -> dict[str, Any]:
    params: dict[str, Any] = {"dbname": database.get("NAME") or "postgres"}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user")):
        if database.get(key):
            params[name] = str(database[key])
    if database.get("PASSWORD"):
        params["password"] = database["PASSWORD"]
    for option, value in (database.get("OPTIONS") or {}).items():
        if option not in _NOT_LIBPQ and isinstance(value, str | int):
            params[option] = value
    return params


def _pg_env(database: dict) -> dict[str, str]:
    """libpq's environment for pg_dump and pg_restore: the password never on a command line.
    What the settings leave out stays as libpq finds it (PG* variables, ~/.pgpass), as it is
    for the desk's own connections."""
    params = _pg_params(database)
    env = dict(os.environ)
    for name, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
        *_LIBPQ_ENV.items(),
    ):
        if name in params:
            env[variable] = str(params[name])
    return env


def _pg_connect(database: dict):
    import psycopg

    params = _pg_params(database)
    try:
        return psycopg.connect(**params, autocommit=True)
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        if "does not exist" in text:
            raise BackupError(
                "backup_no_database",
                _(
                    "The database %(name)s does not exist: create it empty first "
                    "(createdb %(name)s)."
                )
                % {"name": params["dbname"]},
            ) from None
        raise BackupError(
            "backup_cannot_connect",
            _("Cannot connect to the database %(name)s: %(why)s")
            % {"name": params["dbname"], "why": _last_line(text)},
        ) from None


_PG_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


def _pg_state(cursor) -> tuple[dict[str, int], dict[str, str]]:
    """(rows per table, latest migration per app) as this cursor's transaction sees them."""
    from psycopg import sql

    counts: dict[str, int] = {}
    tables = cursor.execute(_PG_TABLES).fetchall()
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        counts[f"{schema}.{table}"] = cursor.execute(query).fetchone()[0]
    migrations: dict[str, str] = {}
    if any(table == "django_migrations" for _schema, table in tables):
        for app, name in cursor.execute("SELECT app, name FROM django_migrations ORDER BY id"):
            migrations[app] = name
    return counts, migrations


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            "backup_missing_tool",
            _(
                "%(tool)s is not installed (or not on PATH): install the PostgreSQL client "
                "programs, of the server's version or newer."
            )
            % {"tool": name},
        )
    return path


def _run(command: list[str], *, env: dict[str, str], tool: str) -> None:
    done = subprocess.run(  # noqa: S603 (our own tool, arguments we built)
        command, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(
            "backup_tool_failed",
            _("%(tool)s failed: %(why)s") % {"tool": tool, "why": _last_line(done.stderr)},
        )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "?"


def _dump_postgresql(
    database: dict, out: Path, cards_out: Path
) -> tuple[dict[str, int], dict[str, str]]:
    """pg_dump of everything but the stored cards' rows into `out`, and those rows, their
    security code NULL, as a psql script into `cards_out`: both of one snapshot."""
    pg_dump = _tool("pg_dump")
    with _pg_connect(database) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts, migrations = _pg_state(conn.cursor())
        cards = conn.execute(_PG_CARDS, (CARDS_TABLE,)).fetchall()
        # pg_dump reads the very snapshot counted, while this transaction keeps it alive.
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                *(f'--exclude-table-data="{schema}"."{table}"' for _oid, schema, table in cards),
                f"--file={out}",
            ],
            env=_pg_env(database),
            tool="pg_dump",
        )
        with cards_out.open("xb") as fh:
            _pg_copy_cards(conn, cards, fh)
        conn.execute("COMMIT")
    return counts, migrations


_PG_CARDS = """
    SELECT c.oid, n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND c.relname = %s AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%%'
    ORDER BY 2
"""
_PG_COLUMNS = """
    SELECT attname FROM pg_attribute
    WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
    ORDER BY attnum
"""


def _pg_copy_cards(conn, cards: list[tuple], fh: BinaryIO) -> None:
    """The rows of the stored cards' table(s) as `COPY ... FROM stdin` blocks for psql, read in
    the snapshot's transaction; the security code NULL, destroyed as of the snapshot (as the
    sweep does after MEDWORKS_CVC_MAX_HOURS), so the archive never holds one."""
    from psycopg import sql

    # What COPY prints follows these settings: the same ones on restore read it back.
    conn.execute("SET LOCAL datestyle = 'ISO'")
    conn.execute("SET LOCAL intervalstyle = 'postgres'")
    conn.execute("SET LOCAL extra_float_digits = 3")
    encoding = conn.execute("SHOW client_encoding").fetchone()[0]
    fh.write(
        f"SET client_encoding = '{encoding}';\n"
        "SET standard_conforming_strings = on;\n"
        "SET datestyle = 'ISO';\n"
        "SET intervalstyle = 'postgres';\n".encode()
    )
    for oid, schema, table in cards:
        columns = [row[0] for row in conn.execute(_PG_COLUMNS, (oid,))]
        has_code = CODE_COLUMN in columns
        chosen = []
        for name in columns:
            column = sql.Identifier(name)
            if name == CODE_COLUMN:
                chosen.append(sql.SQL("NULL"))
            elif name == CODE_DESTROYED_COLUMN and has_code:
                chosen.append(
                    sql.SQL(
                        "CASE WHEN {code} IS NULL THEN {column} "
                        "ELSE coalesce({column}, transaction_timestamp()) END"
                    ).format(code=sql.Identifier(CODE_COLUMN), column=column)
                )
            else:
                chosen.append(column)
        name = sql.Identifier(schema, table)
        select = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(
            sql.SQL(", ").join(chosen), name
        )
        into = sql.SQL("COPY {} ({}) FROM stdin;\n").format(
            name, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        fh.write(into.as_string(conn).encode(conn.info.encoding))
        with conn.cursor().copy(select) as copy:
            for block in copy:
                fh.write(block)
        fh.write(b"\\.\n")


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\' ORDER BY name"
        )
    ]


def _sqlite_state(path: Path) -> tuple[dict[str, int], dict[str, str]]:
    conn = sqlite3.connect(path)
    try:
        tables = _sqlite_tables(conn)
        counts = {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }
        migrations: dict[str, str] = {}
        if "django_migrations" in tables:
            for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY id"):
                migrations[app] = name
        return counts, migrations
    finally:
        conn.close()


def _dump_sqlite(using: str, out: Path) -> tuple[dict[str, int], dict[str, str]]:
    connection = connections[using]
    if connection.in_atomic_block:  # the backup API would wait forever for its own writes
        raise BackupError(
            "backup_in_transaction", _("A SQLite database is not backed up inside a transaction.")
        )
    connection.ensure_connection()
    target = sqlite3.connect(out)
    try:
        connection.connection.backup(target)  # one step: a consistent copy, writers go on (WAL)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        _sqlite_without_security_codes(
            target, connection.ops.adapt_datetimefield_value(timezone.now())
        )
    finally:
        target.close()
    return _sqlite_state(out)


def _sqlite_without_security_codes(conn: sqlite3.Connection, now: str) -> None:
    """The copy's cards lose their security code, destroyed as of `now` (as the sweep does
    after MEDWORKS_CVC_MAX_HOURS); secure_delete and VACUUM leave no old bytes in the file."""
    columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{CARDS_TABLE}")')}
    if CODE_COLUMN not in columns:
        return
    destroyed = (
        f', "{CODE_DESTROYED_COLUMN}" = coalesce("{CODE_DESTROYED_COLUMN}", ?)'
        if CODE_DESTROYED_COLUMN in columns
        else ""
    )
    conn.execute("PRAGMA secure_delete = ON")
    with conn:  # commits
        conn.execute(
            f'UPDATE "{CARDS_TABLE}" SET "{CODE_COLUMN}" = NULL{destroyed} '  # noqa: S608
            f'WHERE "{CODE_COLUMN}" IS NOT NULL',
            (now,) if destroyed else (),
        )
    conn.execute("VACUUM")


# --- Backup ----------------------------------------------------------------------------------


def _check_destination(out: Path) -> None:
    if out.exists():
        raise BackupError(
            "backup_exists",
            _("%(file)s exists: a backup never overwrites a file; choose another name.")
            % {"file": out},
        )
    if not out.parent.is_dir():
        raise BackupError(
            "backup_no_folder", _("%(folder)s: no such folder.") % {"folder": out.parent}
        )
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise BackupError(
            "backup_unwritable",
            _("%(folder)s: cannot write there.") % {"folder": out.parent},
        )


def _add_path(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return _add_stream(tar, name, fh, path.stat().st_size)


def _add_stream(tar: tarfile.TarFile, name: str, fh, size: int) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    reader = _HashingReader(fh)
    tar.addfile(info, reader)
    if reader.size != size or reader.read(1):
        raise BackupError(
            "backup_changed",
            _("%(name)s changed while it was backed up: run the backup again.") % {"name": name},
        )
    return {"size": size, "sha256": reader.sha256.hexdigest()}


def backup(
    out_path: str | os.PathLike,
    *,
    key: bytes,
    using: str = "default",
    storage: Storage | None = None,
) -> BackupReport:
    """Writes the archive of the database `using` and of the document storage to `out_path`,
    atomically (a temporary file beside it, renamed when complete); never overwrites."""
    started = time.monotonic()
    key = _checked_key(key)
    out = Path(out_path).absolute()
    _check_destination(out)
    database = connections[using].settings_dict
    vendor = _vendor(database)
    documents = raw_storage(storage if storage is not None else storages["documents"])
    with tempfile.TemporaryDirectory(prefix="medworks-backup-") as work:
        dump = Path(work) / DATABASE
        cards: Path | None = None
        if vendor == "postgresql":
            cards = Path(work) / CARDS
            counts, migrations = _dump_postgresql(database, dump, cards)
        else:
            counts, migrations = _dump_sqlite(using, dump)
        try:
            fd, part = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        except OSError as exc:
            raise BackupError(
                "backup_unwritable",
                _("%(folder)s: cannot write there (%(why)s).")
                % {"folder": out.parent, "why": exc.strerror},
            ) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                sealer = _SealingWriter(fh, key)
                members: dict[str, dict[str, Any]] = {}
                with tarfile.open(fileobj=sealer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    members[DATABASE] = _add_path(tar, DATABASE, dump)
                    dump.unlink()
                    if cards is not None:
                        members[CARDS] = _add_path(tar, CARDS, cards)
                        cards.unlink()
                    for name in _stored_names(documents):
                        with documents.open(name, "rb") as stored:
                            members[DOCUMENTS + name] = _add_stream(
                                tar, DOCUMENTS + name, stored, documents.size(name)
                            )
                    manifest = {
                        "format": FORMAT,
                        "version": FORMAT_VERSION,
                        "created_at": timezone.now().isoformat(timespec="seconds"),
                        "database": {"vendor": vendor, "tables": counts},
                        "migrations": migrations,
                        "members": members,
                    }
                    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
                    tar.addfile(info, _BytesReader(data))
                sealer.finish()
                fh.flush()
                os.fsync(fh.fileno())
            if out.exists():
                raise BackupError(
                    "backup_exists",
                    _("%(file)s exists: a backup never overwrites a file; choose another name.")
                    % {"file": out},
                )
            os.replace(part, out)
        except OSError as exc:
            Path(part).unlink(missing_ok=True)
            raise BackupError(
                "backup_write_failed",
                _("Cannot write %(file)s: %(why)s.") % {"file": out, "why": exc.strerror or exc},
            ) from None
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
    docs = [m for name, m in members.items() if name.startswith(DOCUMENTS)]
    return BackupReport(
        path=out,
        vendor=vendor,
        archive_bytes=out.stat().st_size,
        database_bytes=members[DATABASE]["size"] + members.get(CARDS, {}).get("size", 0),
        tables=len(counts),
        rows=sum(counts.values()),
        documents=len(docs),
        document_bytes=sum(m["size"] for m in docs),
        seconds=time.monotonic() - started,
    )


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset : end], min(end, len(self.data))
        return chunk


# --- Restore ---------------------------------------------------------------------------------


@dataclass
class _Opened:
    manifest: dict[str, Any]
    dump: Path
    cards: Path | None  # PostgreSQL: the stored cards' rows, a psql script
    documents: list[tuple[str, Path]]


def _safe_member(name: str) -> bool:
    if name in (MANIFEST, DATABASE, CARDS):
        return True
    if not name.startswith(DOCUMENTS) or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name[len(DOCUMENTS) :]).parts
    return bool(parts) and not any(part in ("", ".", "..") for part in parts)


def _open_archive(path: Path, key: bytes, work: Path) -> _Opened:
    """Decrypts the archive into `work`, checking every chunk and every member's sha256."""
    name = str(path)
    seen: dict[str, tuple[int, str]] = {}
    documents: list[tuple[str, Path]] = []
    dump = work / "database"
    cards = work / "cards.sql"
    manifest_bytes = b""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BackupError(
            "backup_unreadable",
            _("Cannot read %(file)s: %(why)s.") % {"file": name, "why": exc.strerror},
        ) from None
    with raw:
        reader = _OpeningReader(raw, key, name=name)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    if not member.isfile() or not _safe_member(member.name) or member.name in seen:
                        raise _damaged(name, _("it holds an unexpected member"))
                    source = tar.extractfile(member)
                    digest = hashlib.sha256()
                    if member.name == MANIFEST:
                        manifest_bytes = source.read()
                        digest.update(manifest_bytes)
                    else:
                        target = {DATABASE: dump, CARDS: cards}.get(
                            member.name, work / f"{len(seen):08d}"
                        )
                        with target.open("xb") as fh:
                            while block := source.read(COPY_BYTES):
                                digest.update(block)
                                fh.write(block)
                        if member.name not in (DATABASE, CARDS):
                            documents.append((member.name[len(DOCUMENTS) :], target))
                    seen[member.name] = (member.size, digest.hexdigest())
            reader.drain()
        except (tarfile.TarError, EOFError):
            raise _damaged(name, _("its contents are not a backup's")) from None
    try:
        manifest = json.loads(manifest_bytes)
        members = manifest["members"]
        if manifest["format"] != FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise _damaged(name, _("its manifest is missing or unreadable")) from None
    if manifest["version"] != FORMAT_VERSION:
        raise BackupError(
            "backup_version",
            _("%(file)s is of backup format %(version)s; this version of MedWorks reads %(ours)s.")
            % {"file": name, "version": manifest["version"], "ours": FORMAT_VERSION},
        )
    listed = {m: (v["size"], v["sha256"]) for m, v in members.items()}
    del seen[MANIFEST]
    if listed != seen or DATABASE not in seen:
        raise _damaged(name, _("its files differ from its manifest"))
    if CARDS in seen and manifest["database"]["vendor"] != "postgresql":
        raise _damaged(name, _("it holds an unexpected member"))
    return _Opened(
        manifest=manifest,
        dump=dump,
        cards=cards if CARDS in seen else None,
        documents=documents,
    )


def _check_migrations(manifest: dict[str, Any], name: str) -> None:
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    installed = {config.label for config in apps.get_app_configs()}
    for app, migration in sorted(manifest.get("migrations", {}).items()):
        if app in installed and (app, migration) not in known:
            raise BackupError(
                "backup_newer",
                _(
                    "%(file)s was made by a newer version of MedWorks (migration %(app)s "
                    "%(migration)s is unknown here): restore it with that version."
                )
                % {"file": name, "app": app, "migration": migration},
            )


def _check_document_key(opened: _Opened, storage: Storage) -> None:
    """Sealed blobs restored into an encrypting storage must open with this desk's key."""
    if not isinstance(storage, EncryptedFileSystemStorage | EncryptedStorage):
        return
    ours = document_key_id(settings.MEDWORKS_DOCUMENT_KEY)
    for _name, path in opened.documents:
        with path.open("rb") as fh:
            head = fh.read(len(DOCUMENT_MAGIC) + 4)
        if head.startswith(DOCUMENT_MAGIC) and head[len(DOCUMENT_MAGIC) :] != ours:
            raise BackupError(
                "backup_document_key",
                _(
                    "The backup's documents were sealed with another MEDWORKS_DOCUMENT_KEY: "
                    "set the key they were sealed with, then restore."
                ),
            )


def _not_empty(what: str) -> BackupError:
    return BackupError(
        "backup_target_not_empty",
        _("%(target)s is not empty: a backup is restored only into an empty one.")
        % {"target": what},
    )


def _sqlite_target(database: dict) -> Path:
    name = str(database.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(
            "backup_sqlite_file",
            _("A SQLite database is restored into a file: name one (sqlite:////path/db)."),
        )
    return Path(name).absolute()


def _refuse_unless_empty(database: dict, vendor: str) -> None:
    if vendor == "postgresql":
        with _pg_connect(database) as conn:
            tables = conn.execute(_PG_TABLES).fetchall()
        if tables:
            raise _not_empty(_("The database %(name)s") % {"name": database.get("NAME")})
        return
    path = _sqlite_target(database)
    if not path.parent.is_dir():
        raise BackupError(
            "backup_no_folder", _("%(folder)s: no such folder.") % {"folder": path.parent}
        )
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        tables = 1  # not a database: certainly not an empty one
    if tables:
        raise _not_empty(_("The database %(name)s") % {"name": path})


def _count_target(database: dict, vendor: str) -> dict[str, int]:
    if vendor == "postgresql":
        with _pg_connect(database) as conn:
            return _pg_state(conn.cursor())[0]
    return _sqlite_state(_sqlite_target(database))[0]


def _put_sqlite(database: dict, dump: Path) -> None:
    path = _sqlite_target(database)
    fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, dump.open("rb") as source:
            shutil.copyfileobj(source, out, COPY_BYTES)
            out.flush()
            os.fsync(out.fileno())
        for leftover in ("-wal", "-shm", "-journal"):  # of the empty database replaced
            Path(f"{path}{leftover}").unlink(missing_ok=True)
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _put_postgresql(database: dict, opened: _Opened, work: Path) -> None:
    """The dump and the stored cards' rows in one transaction: pg_restore writes the dump's
    sections as SQL scripts, which one psql runs in order, the cards' rows after the other
    data and before the constraints and indexes (post-data), as pg_restore itself would."""
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    env = _pg_env(database)
    scripts = []
    for section in ("pre-data", "data", "post-data"):
        script = work / f"{section}.sql"
        _run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                f"--section={section}",
                f"--file={script}",
                str(opened.dump),
            ],
            env=env,
            tool="pg_restore",
        )
        scripts.append(script)
    opened.dump.unlink()
    if opened.cards is not None:
        scripts.insert(2, opened.cards)
    try:
        _run(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",  # around every --file: a failure leaves it empty
                f"--dbname={_pg_params(database)['dbname']}",
                *(f"--file={script}" for script in scripts),
            ],
            env=env,
            tool="psql",
        )
    finally:
        for script in scripts:
            script.unlink(missing_ok=True)


def restore(
    in_path: str | os.PathLike,
    *,
    key: bytes,
    database: dict | None = None,
    storage: Storage | None = None,
    work_dir: str | os.PathLike | None = None,
) -> RestoreReport:
    """Restores the archive into `database` (a DATABASES entry; the default one if None) and
    the document `storage` (the "documents" storage if None), both of which must be empty."""
    started = time.monotonic()
    key = _checked_key(key)
    path = Path(in_path)
    name = str(path)
    database = dict(database if database is not None else connections["default"].settings_dict)
    vendor = _vendor(database)
    storage = storage if storage is not None else storages["documents"]
    documents = raw_storage(storage)
    with tempfile.TemporaryDirectory(prefix="medworks-restore-", dir=work_dir) as work:
        opened = _open_archive(path, key, Path(work))  # nothing is touched before this passes
        manifest = opened.manifest
        made_of = manifest["database"]["vendor"]
        if made_of != vendor:
            raise BackupError(
                "backup_other_vendor",
                _("%(file)s is of a %(made)s database; it cannot be restored into %(target)s.")
                % {"file": name, "made": made_of, "target": vendor},
            )
        _check_migrations(manifest, name)
        _check_document_key(opened, storage)
        _refuse_unless_empty(database, vendor)
        if next(_stored_names(documents), None) is not None:
            raise _not_empty(_("The document storage"))
        if vendor == "postgresql":
            _put_postgresql(database, opened, Path(work))
        else:
            _put_sqlite(database, opened.dump)
        opened.dump.unlink(missing_ok=True)
        for stored_name, staged in opened.documents:
            with staged.open("rb") as fh:
                saved = documents.save(stored_name, File(fh, name=stored_name))
            if saved != stored_name:
                raise BackupError(
                    "backup_document_renamed",
                    _("The document storage stored %(name)s under another name.")
                    % {"name": stored_name},
                )
            staged.unlink()
    counts = _count_target(database, vendor)
    expected = manifest["database"]["tables"]
    if counts != expected:
        differ = sorted(t for t in set(counts) | set(expected) if counts.get(t) != expected.get(t))
        raise BackupError(
            "backup_mismatch",
            _("Restored, but the rows of %(tables)s differ from the backup's: check them.")
            % {"tables": ", ".join(differ[:5])},
        )
    members = manifest["members"]
    return RestoreReport(
        path=path,
        vendor=vendor,
        created_at=manifest["created_at"],
        archive_bytes=path.stat().st_size,
        tables=len(counts),
        rows=sum(counts.values()),
        documents=len(opened.documents),
        document_bytes=sum(v["size"] for m, v in members.items() if m.startswith(DOCUMENTS)),
        seconds=time.monotonic() - started,
        migrations=manifest.get("migrations", {}),
    )


def created_at_display(report: RestoreReport) -> str:
    """The archive's creation time, in the desk's time zone."""
    when = dt.datetime.fromisoformat(report.created_at)
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
