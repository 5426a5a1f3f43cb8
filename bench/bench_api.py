"""Benchmark: POST /api/v1/booking-requests under 4 concurrent clients, served by gunicorn.

    .venv/bin/python bench/bench_api.py [--requests 250] [--clients 4] [--workers NPROC]
                                        [--worker-class sync|gthread] [--threads 1]

For each database it prepares a fresh one (SQLite in a temp MEDWORKS_DATA_DIR; and, when
DATABASE_URL is set, a separate PostgreSQL database `medworks_bench_api` on that server, created
and dropped here), migrates it, makes an insurer with an API key, and starts the production
server: gunicorn on 127.0.0.1 at a free port with MEDWORKS_ENV=production. Sync workers by
default: a gthread worker accepts every keep-alive connection it can, so with few clients one
worker ends up serving all of them on one CPU while the others idle (measured: one worker at
85% CPU, three at 2%). Sync workers close the connection after each answer and the next
request goes to whichever worker is free. (With --threads > 1, gunicorn itself switches a
sync worker to gthread.)
Then N client threads, each with its own connection (http.client, kept alive where the server
allows, reopened where it closes it), send warm-up requests (not counted) and then --requests
submissions each, every one with its own Idempotency-Key and its own insurer reference and
patient. Every answer must be 201. Prints p50/p95/p99/max latency
as the client saw it, throughput, and the machine. The target is p95 <= 50 ms.

Client and server share the machine's CPUs; the figures include that contention.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "medworks_bench_api"
TARGET_P95_MS = 50.0
URL = "/api/v1/booking-requests"

SETUP = """
from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.services import api_key_create
from medworks.core.actor import Actor
org = Organisation.objects.create(name="Bench Assist", kind=OrganisationKind.INSURER)
print(api_key_create(organisation=org, name="bench", actor=Actor.system("bench"))[1])
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def body(client: int, n: int, day: str) -> dict:
    return {
        "insurer_reference": f"BENCH-{client}-{n}",
        "policy_number": "POL-778812",
        "insurer_contact_name": "Ines Adjuster",
        "insurer_contact_email": "adjuster@bench.example",
        "patient_first_name": f"Patient{client}",
        "patient_last_name": f"Number{n}",
        "patient_date_of_birth": "1980-04-12",
        "patient_phone": "416-555-0199",
        "patient_address": "300 Front Street West",
        "patient_city": "Toronto",
        "patient_postal_code": "M5V 3L9",
        "patient_language": "fr" if n % 2 else "en",
        "services": ["XRAY"],
        "summary": "Wrist X-ray, two views.",
        "preferred_dates": [day],
        "urgency": "soon",
        "results_delivery": "direct_to_patient",
    }


class Client(threading.Thread):
    def __init__(self, index: int, *, port: int, secret: str, warmup: int, count: int, start):
        super().__init__(daemon=True)
        self.index, self.port, self.secret = index, port, secret
        self.warmup, self.count, self.start_barrier = warmup, count, start
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.day = (dt.date.today() + dt.timedelta(days=14)).isoformat()

    def post(self, conn: http.client.HTTPConnection, n: int) -> float:
        payload = json.dumps(body(self.index, n, self.day)).encode()
        headers = {
            "Authorization": f"Bearer {self.secret}",
            "Idempotency-Key": f"bench-{self.index}-{n}-{secrets.token_hex(4)}",
            "Content-Type": "application/json",
            "Host": "127.0.0.1",
        }
        t0 = time.perf_counter()
        conn.request("POST", URL, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 201:
            self.failures.append(f"{response.status} {data[:200]!r}")
        return elapsed

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            for n in range(self.warmup):
                self.post(conn, -1 - n)
        except Exception as exc:
            self.failures.append(f"warm-up: {exc!r}")
            self.start_barrier.abort()  # nobody waits for a client that cannot run
            return
        try:
            self.start_barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            return
        for n in range(self.count):
            try:
                self.latencies.append(self.post(conn, n))
            except (OSError, http.client.HTTPException) as exc:
                # A server that closed the keep-alive connection: reconnect, count the failure.
                self.failures.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()


def wait_until_listening(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start listening")


def run_one(label: str, env: dict, args) -> dict:
    subprocess.run([BIN / "medworks", "migrate", "--noinput", "-v0"], env=env, check=True)
    secret = (
        subprocess.run(
            [BIN / "medworks", "shell", "-c", SETUP],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )  # the shell may print a banner first
    port = free_port()
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "medworks.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            f"--worker-class={args.worker_class}",
            f"--threads={args.threads}",
            "--keep-alive=30",
            "--log-level=warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_until_listening(port, server)
        start = threading.Barrier(args.clients + 1)
        clients = [
            Client(
                i, port=port, secret=secret, warmup=args.warmup, count=args.requests, start=start
            )
            for i in range(args.clients)
        ]
        for client in clients:
            client.start()
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            for client in clients:
                client.join(timeout=5)
            raise SystemExit(
                f"{label}: a client failed to warm up: "
                + "; ".join(f for c in clients for f in c.failures)[:500]
            ) from None
        t0 = time.perf_counter()
        for client in clients:
            client.join()
        wall = time.perf_counter() - t0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    latencies = sorted(ms * 1000 for c in clients for ms in c.latencies)
    failures = [f for c in clients for f in c.failures]
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    result = {
        "label": label,
        "requests": len(latencies),
        "failures": len(failures),
        "p50": statistics.median(latencies),
        "p95": quantiles[94],
        "p99": quantiles[98],
        "max": latencies[-1],
        "throughput": len(latencies) / wall,
        "wall": wall,
    }
    print(
        f"{label}: {result['requests']} requests, {result['failures']} failed; "
        f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, "
        f"max {result['max']:.1f} ms; {result['throughput']:.0f} req/s over {wall:.1f} s "
        f"-> {'PASS' if result['p95'] <= TARGET_P95_MS and not failures else 'FAIL'} "
        f"(p95 <= {TARGET_P95_MS:.0f} ms)",
        flush=True,
    )
    for failure in failures[:5]:
        print(f"  failure: {failure}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=250, help="per client")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=10, help="per client, not counted")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="default: one per CPU (more only add lock waits on SQLite, measured)",
    )
    parser.add_argument("--threads", type=int, default=1, help="per gunicorn worker")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args()

    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}; "
        f"Python {platform.python_version()}; gunicorn {args.worker_class} {args.workers} "
        f"workers x {args.threads} threads; {args.clients} clients x {args.requests} requests "
        f"(+{args.warmup} warm-up each)",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="medworks-bench-api-"))
    server_url = os.environ.get("DATABASE_URL", "")
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base.update(
        DJANGO_SETTINGS_MODULE="medworks.settings",
        MEDWORKS_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        # Production refuses to start without a document encryption key (unused here).
        MEDWORKS_DOCUMENT_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        MEDWORKS_CARD_KEYS="k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on the loopback; TLS ends at a proxy
        DATABASE_CONN_MAX_AGE="60",  # persistent connections, as a production server runs
        LOG_LEVEL="WARNING",
    )
    results = []
    try:
        if args.only in (None, "sqlite"):
            env = {**base, "MEDWORKS_DATA_DIR": str(root / "sqlite")}
            results.append(run_one("sqlite", env, args))
        if args.only in (None, "postgresql"):
            if not server_url:
                print("postgresql: skipped (set DATABASE_URL to a server to include it)")
            else:
                pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
                pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
                try:
                    env = {
                        **base,
                        "MEDWORKS_DATA_DIR": str(root / "pg"),
                        "DATABASE_URL": with_database(server_url, BENCH_DB),
                    }
                    results.append(run_one("postgresql", env, args))
                finally:
                    pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ok = all(r["p95"] <= TARGET_P95_MS and not r["failures"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
