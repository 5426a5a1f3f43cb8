"""Benchmark: the staff work queue with 10,000 open cases, rendered as a signed-in agent.

    .venv/bin/python bench/bench_work_queue.py [--cases 10000] [--renders 30]

Bulk-creates the cases (patients, requests, their services) in a fresh database: SQLite in a
temp MEDWORKS_DATA_DIR by default; when DATABASE_URL is set, a separate PostgreSQL database
`medworks_bench_queue` on that server, created and dropped by this script. Then renders
/staff/bookings/ through Django's test Client (the whole stack: middleware, session, view,
template) `--renders` times for three views of the queue (all open, one state, overdue only)
and prints p50/p95, the SQL queries per render, and the machine. Target: p95 <= 200 ms.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import cpu_model, pg_admin, with_database

BENCH_DB = "medworks_bench_queue"
TARGET_MS = 200


def seed(count: int, *, rng: random.Random) -> None:
    from django.db import transaction
    from django.utils import timezone

    from medworks.accounts.models import Organisation, OrganisationKind, Role, RoleCode, User
    from medworks.bookings.models import BookingRequest, Patient
    from medworks.bookings.selectors import QUEUE_STATES
    from medworks.network.models import Service

    operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR)
    agents = []
    for i in range(8):
        agent = User.objects.create_user(
            username=f"agent{i}", password="bench-password", organisation=operator
        )
        agent.roles.add(Role.objects.get(code=RoleCode.BOOKING_AGENT))
        agents.append(agent)
    insurers = [
        Organisation.objects.create(name=f"Insurer {i:02d}", kind=OrganisationKind.INSURER)
        for i in range(25)
    ]
    services = list(Service.objects.filter(is_active=True).values_list("pk", flat=True))
    now = timezone.now()
    through = BookingRequest.services.through
    with transaction.atomic():
        for start in range(0, count, 2000):
            size = min(2000, count - start)
            patients = Patient.objects.bulk_create(
                Patient(
                    insurer=rng.choice(insurers),
                    first_name="Bench",
                    last_name=f"Patient{start + i}",
                    date_of_birth=dt.date(1960 + i % 50, 1 + i % 12, 1 + i % 28),
                    address=f"{i} Main Street",
                    city="Toronto",
                    province="ON",
                    postal_code="M5V 3L9",
                )
                for i in range(size)
            )
            requests = BookingRequest.objects.bulk_create(
                BookingRequest(
                    order_id=f"MW-2026-{start + i + 1:06d}",
                    insurer_id=patient.insurer_id,
                    insurer_reference=f"CLM-{start + i:07d}",
                    insurer_contact_name="Claims desk",
                    insurer_contact_email="claims@insurer.example",
                    patient=patient,
                    channel="portal",
                    status=rng.choice(QUEUE_STATES),
                    status_changed_at=now - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 10)),
                    urgency=rng.choice(["routine", "routine", "soon", "urgent"]),
                    owner=rng.choice([None, *agents]),
                )
                for i, patient in enumerate(patients)
            )
            through.objects.bulk_create(
                through(bookingrequest_id=r.pk, service_id=s)
                for r in requests
                for s in rng.sample(services, rng.choice([1, 1, 2, 3]))
            )


class QueryTimer:
    """Counts the SQL statements of a render and the time spent in them."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times.append((time.perf_counter() - t0) * 1000)

    def __len__(self) -> int:
        return len(self.times)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medworks-bench-queue-"))
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url:
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["MEDWORKS_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
    os.environ["DEBUG"] = "false"  # no query log, no debug toolbar cost: as in production
    # The agent is signed in with force_login: the page, not the two-step sign-in, is measured.
    os.environ["MEDWORKS_STAFF_REQUIRE_2FA"] = "false"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        seed(args.cases, rng=random.Random(args.seed))
        seed_s = time.perf_counter() - t0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
              f"{cpu_model()}; Python {platform.python_version()}")  # fmt: skip
        connection.ensure_connection()
        version = (
            connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else connection.Database.sqlite_version
        )
        print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
        print(f"cases: {args.cases} open, bulk-created in {seed_s:.1f} s")

        client = Client()
        assert client.login(username="agent0", password="bench-password")
        views = [
            ("all open cases", {}),
            ("one state (sourcing)", {"state": "sourcing"}),
            ("overdue only, mine", {"overdue": "on", "owner": "mine"}),
            ("page 40", {"page": "40"}),
        ]
        worst_p95 = 0.0
        for label, params in views:
            response = client.get("/staff/bookings/", params)  # warm up, and check it works
            assert response.status_code == 200, response.status_code
            queries = QueryTimer()
            with connection.execute_wrapper(queries):
                client.get("/staff/bookings/", params)
            times = []
            for _ in range(args.renders):
                t0 = time.perf_counter()
                response = client.get("/staff/bookings/", params)
                times.append((time.perf_counter() - t0) * 1000)
            rows = response.content.count(b"data-order-id=")
            p50, p95 = statistics.median(times), percentile(times, 95)
            worst_p95 = max(worst_p95, p95)
            print(f"{label:24s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"({rows} rows, {len(queries)} queries taking {sum(queries.times):.1f} ms, "
                  f"{args.renders} renders)")  # fmt: skip
        verdict = "OK" if worst_p95 <= TARGET_MS else "OVER TARGET"
        print(f"target p95 <= {TARGET_MS} ms: {verdict} (worst p95 {worst_p95:.1f} ms)")
    finally:
        connections.close_all()
        if server_url:
            pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
