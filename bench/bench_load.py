"""Load: 20 clients submitting, approving and paying for 60 s against gunicorn on PostgreSQL.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_load.py [--seconds 60]
        [--submitters 12] [--insurers 4] [--staff 4] [--workers 5] [--kill-workers]

Prepares a throwaway PostgreSQL database `medworks_bench_load` on DATABASE_URL's server
(created and dropped here; no other database is touched), migrates it, makes an insurer with
an API key, a clinic offering an X-ray, a booking agent and a finance user, starts a local
SMTP server (aiosmtpd, counting what it receives by Message-ID), gunicorn with
MEDWORKS_ENV=production on a free port, and 2 `medworks worker` processes (the outbox's
delivery; periodic jobs every 5 s). Then, for --seconds, closed-loop clients (each waits for
its answer, so at most 20 requests are in flight; the run is bounded by time):

- submitters (HTTP): POST /api/v1/booking-requests, each with its own Idempotency-Key: 201.
- insurers (HTTP, the insurer's system; each owns the cases whose Order Id number % N is its
  index): list its cases with dates offered, read one, confirm the quote's charges (200),
  approve the first date (200). Deliberate race: on every 5th case it approves both dates at
  once from two connections; exactly one must win (200) and the other be refused (409).
- staff (in this process: django.setup() on the same database, the real use cases; each owns
  the cases whose pk % N is its index): take a received case, choose the clinic, record two
  dates; once booked, the appointment time is moved into the past (as a test would: nothing is
  completed before the appointment), completed, marked ready for billing, invoiced, issued,
  and paid in full (`payment_record`, allocated to the invoice). Deliberate race: every 4th
  invoice is paid twice at once from two threads; exactly one must be recorded, the other
  refused (a DomainError: beyond the balance).

Checks: 0 errors (any other status or exception); 0 double bookings (SQL: a slot with two
appointments, a case with two live appointments or two taken dates); 0 double payments (SQL:
an invoice whose allocations exceed its total, or with more than one payment); the ledger
balanced. Emails: after the window the outbox drains (bounded, --drain seconds), every row
must be sent and received by the SMTP server; lost and duplicated counted by Message-ID.

--kill-workers: every 10 s one worker (in turn) is killed with SIGKILL and started again. A
row a killed worker had claimed ('sending') is only reclaimed when its lease (5 min) lapses;
rows still claimed after the drain are delivered by this process as the lapsed lease would
(`outbox_message_deliver(now=now + CLAIM_LEASE)`), and counted apart.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import email.parser
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import (
    BIN,
    ROOT,
    body,
    cpu_model,
    free_port,
    pg_admin,
    wait_until_listening,
    with_database,
)

BENCH_DB = "medworks_bench_load"
URL = "/api/v1/booking-requests"
RACE_APPROVE_EVERY = 5
RACE_PAY_EVERY = 4
KILL_EVERY = 10.0


class Stats:
    """Latencies (ms) per kind, errors, and the outcomes of the deliberate races."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: list[str] = []
        self.races: collections.Counter = collections.Counter()

    def time(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds * 1000)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:300])

    def race(self, outcome: str) -> None:
        with self.lock:
            self.races[outcome] += 1


class Http:
    """One client connection (reopened after the server closes it)."""

    def __init__(self, port: int, secret: str, stats: Stats) -> None:
        self.port, self.secret, self.stats = port, secret, stats
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, kind: str, method: str, path: str, payload=None, key: str = "", ok=(200,)):
        headers = {"Authorization": f"Bearer {self.secret}", "Host": "127.0.0.1"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.stats.error(f"{kind}: {exc!r}")
            return None, None
        self.stats.time(kind, time.perf_counter() - t0)
        if response.status not in ok:
            self.stats.error(f"{kind}: {response.status} {raw[:200]!r}")
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        self.conn.close()


def warm_up(clients: list[Http], ready: threading.Barrier) -> None:
    """A few reads on each connection before the window (not counted): every gunicorn worker
    has loaded the application and opened its database connection."""
    for client in clients:
        for _ in range(3):
            client.call("warm-up", "GET", f"{URL}?status=cancelled")
    ready.wait()


def submitter(index: int, *, port: int, secret: str, stats: Stats, stop, ready):
    client = Http(port, secret, stats)
    warm_up([client], ready)
    day = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    n = 0
    while not stop.is_set():
        key = f"load-{index}-{n}-{secrets.token_hex(4)}"
        client.call("submit", "POST", URL, body(index, n, day), key=key, ok=(201,))
        n += 1
    client.close()


def order_number(order_id: str) -> int:
    return int(order_id.rsplit("-", 1)[-1])


def insurer(index: int, count: int, *, port: int, secret: str, stats: Stats, stop, ready):
    client = Http(port, secret, stats)
    racers = [Http(port, secret, stats), Http(port, secret, stats)]
    warm_up([client, *racers], ready)
    done: set[str] = set()
    while not stop.is_set():
        _status, page = client.call("list", "GET", f"{URL}?status=dates_offered")
        mine = [
            row["order_id"]
            for row in (page or {}).get("results", [])
            if order_number(row["order_id"]) % count == index and row["order_id"] not in done
        ]
        if not mine:
            stop.wait(0.05)
            continue
        for order_id in mine:
            if stop.is_set():
                break
            done.add(order_id)
            _status, detail = client.call("detail", "GET", f"{URL}/{order_id}")
            slots = [s["id"] for s in ((detail or {}).get("open_offer") or {}).get("slots", [])]
            if not slots:
                stats.error(f"detail: {order_id} has no open offer")
                continue
            client.call("quote_confirm", "POST", f"{URL}/{order_id}/quote/confirm")
            path = f"{URL}/{order_id}/offers/approve"
            if order_number(order_id) % RACE_APPROVE_EVERY == 0 and len(slots) >= 2:
                answers: list = [None, None]
                barrier = threading.Barrier(2)

                def approve(i: int, slot: int, path=path, answers=answers, barrier=barrier):
                    barrier.wait()
                    answers[i] = racers[i].call(
                        "approve_race", "POST", path, {"slot_id": slot}, ok=(200, 409)
                    )[0]

                pair = [threading.Thread(target=approve, args=(i, slots[i])) for i in (0, 1)]
                for thread in pair:
                    thread.start()
                for thread in pair:
                    thread.join()
                if sorted(answers, key=str) == [200, 409]:
                    stats.race("approve: one 200, one 409")
                else:
                    stats.race(f"approve: WRONG {answers}")
                    stats.error(f"approve race on {order_id}: {answers}")
            else:
                client.call("approve", "POST", path, {"slot_id": slots[0]})
    for c in (client, *racers):
        c.close()


def timed(stats: Stats, kind: str, fn, **kwargs):
    t0 = time.perf_counter()
    result = fn(**kwargs)
    stats.time(kind, time.perf_counter() - t0)
    return result


def staff(index: int, count: int, *, world: dict, stats: Stats, stop, ready):
    from django.db import close_old_connections, connection
    from django.db.models.functions import Mod
    from django.utils import timezone

    from medworks.billing.invoices import invoice_draft_for_case, invoice_issue, payment_record
    from medworks.bookings import services as bookings
    from medworks.bookings.models import (
        Appointment,
        AppointmentStatus,
        BookingRequest,
        BookingStatus,
    )
    from medworks.core.errors import DomainError
    from tests.factories import slot_data

    agent, finance, location = world["agent"], world["finance"], world["location"]
    ready.wait()

    def pay(invoice, results: list | None = None) -> None:
        try:
            timed(
                stats,
                "svc_payment_record",
                payment_record,
                insurer=invoice.insurer,
                amount=invoice.total,
                received_on=timezone.localdate(),
                method="eft",
                reference=f"TRACE-{invoice.pk}-{secrets.token_hex(2)}",
                allocations=[invoice],
                actor=finance,
            )
            outcome = "paid"
        except DomainError as exc:
            outcome = f"refused {exc.code}"
        except Exception as exc:  # a database error (a deadlock...): an error, said as such
            outcome = f"error {type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            if results is not None:
                connection.close()
        if results is not None:
            results.append(outcome)
        elif outcome != "paid":
            stats.error(f"payment of {invoice.display_number}: {outcome}")

    def race_pay(invoice) -> None:
        results: list[str] = []
        barrier = threading.Barrier(2)

        def one() -> None:
            barrier.wait()
            pay(invoice, results)

        pair = [threading.Thread(target=one) for _ in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
        refused = [r for r in results if r.startswith("refused")]
        if sorted(results) == ["paid", *refused] and len(refused) == 1:
            stats.race(f"payment: one paid, one {refused[0]}")
        else:
            stats.race(f"payment: WRONG {results}")
            stats.error(f"payment race on {invoice.display_number}: {results}")

    def source(case) -> None:
        timed(stats, "svc_take", bookings.booking_request_take, case=case, actor=agent)
        timed(
            stats,
            "svc_select_clinic",
            bookings.booking_request_select_clinic,
            case=case,
            location=location,
            actor=agent,
        )
        slots = [slot_data(days=5, hour=10), slot_data(days=6, hour=14)]
        timed(
            stats,
            "svc_offer_record",
            bookings.availability_offer_record,
            case=case,
            slots=slots,
            actor=agent,
        )

    def bill(case) -> None:
        # The appointment took place: nothing is completed before its time (as tests do).
        Appointment.objects.filter(request=case, status=AppointmentStatus.BOOKED).update(
            starts_at=timezone.now() - dt.timedelta(hours=2)
        )
        timed(stats, "svc_complete", bookings.appointment_complete, case=case, actor=agent)
        timed(
            stats,
            "svc_ready_for_billing",
            bookings.booking_request_step,
            case=case,
            name="mark_ready_for_billing",
            actor=agent,
        )
        draft = timed(stats, "svc_invoice_draft", invoice_draft_for_case, case=case, actor=finance)
        invoice = timed(stats, "svc_invoice_issue", invoice_issue, invoice=draft, actor=finance)
        if invoice.pk % RACE_PAY_EVERY == 0:
            race_pay(invoice)
        else:
            pay(invoice)

    while not stop.is_set():
        close_old_connections()
        todo = list(
            BookingRequest.objects.annotate(part=Mod("pk", count))
            .filter(part=index, status__in=[BookingStatus.RECEIVED, BookingStatus.BOOKED])
            .order_by("pk")[:10]
        )
        if not todo:
            stop.wait(0.05)
            continue
        for case in todo:
            if stop.is_set():
                break
            try:
                source(case) if case.status == BookingStatus.RECEIVED else bill(case)
            except Exception as exc:
                stats.error(f"staff {case.order_id} ({case.status}): {exc!r}")
    connection.close()


class Mailbox:
    """The SMTP server's side: every message received, counted by Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: collections.Counter = collections.Counter()

    async def handle_DATA(self, server, session, envelope):
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.original_content)
        with self.lock:
            self.ids[headers.get("Message-ID", "").strip()] += 1
        return "250 OK"


class Workers:
    """2 `medworks worker` processes; `kill_one` SIGKILLs one in turn and starts it again."""

    def __init__(self, env: dict, log: Path, count: int = 2) -> None:
        self.env, self.log = env, log.open("ab")
        self.procs = [self._start() for _ in range(count)]
        self.kills = 0

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(
            [BIN / "medworks", "worker", "--interval=0.2", "--periodic-seconds=5"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=self.log,
        )

    def kill_one(self) -> None:
        i = self.kills % len(self.procs)
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()
        self.procs[i] = self._start()
        self.kills += 1

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


def setup_world() -> tuple[str, dict]:
    from medworks.accounts.models import Organisation, OrganisationKind, RoleCode
    from medworks.accounts.services import api_key_create
    from medworks.core.actor import Actor
    from tests.factories import make_location, make_offering, make_user

    org = Organisation.objects.create(name="Bench Assist", kind=OrganisationKind.INSURER)
    _key, secret = api_key_create(organisation=org, name="load", actor=Actor.system("bench"))
    location = make_location(name="Bench Harbour Clinic", email="clinic@bench.example")
    make_offering(location=location, service_code="XRAY", price="120.00")
    agent = make_user(roles=[RoleCode.BOOKING_AGENT], username="bench-agent")
    finance = make_user(roles=[RoleCode.FINANCE], username="bench-finance")
    world = {
        "agent": Actor.for_user(agent),
        "finance": Actor.for_user(finance),
        "location": location,
    }
    return secret, world


def checks() -> dict:
    from django.db import connection

    from medworks.billing.models import Invoice, PaymentAllocation
    from medworks.billing.receivables import unbalanced_journals
    from medworks.bookings.models import Appointment, OfferSlot

    appt, slot = Appointment._meta.db_table, OfferSlot._meta.db_table
    invoice, alloc = Invoice._meta.db_table, PaymentAllocation._meta.db_table
    offer_fk = OfferSlot._meta.get_field("offer").column
    queries = {
        "slots with two appointments": f"""
            SELECT slot_id FROM {appt} GROUP BY slot_id HAVING count(*) > 1""",
        "cases with two live appointments": f"""
            SELECT request_id FROM {appt} WHERE status IN ('booked', 'completed')
            GROUP BY request_id HAVING count(*) > 1""",
        "offers with two dates taken": f"""
            SELECT {offer_fk} FROM {slot} WHERE status = 'taken'
            GROUP BY {offer_fk} HAVING count(*) > 1""",
        "invoices over-allocated": f"""
            SELECT i.id FROM {invoice} i JOIN {alloc} a ON a.invoice_id = i.id
            GROUP BY i.id, i.total HAVING sum(a.amount) > i.total""",
        "invoices paid twice": f"""
            SELECT invoice_id FROM {alloc} GROUP BY invoice_id HAVING count(*) > 1""",
    }
    found = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            found[name] = len(cursor.fetchall())
    found["unbalanced journals"] = len(unbalanced_journals())
    return found


def counts() -> dict:
    from django.db.models import Count

    from medworks.billing.models import Invoice, PaymentAllocation
    from medworks.bookings.models import Appointment, BookingRequest

    return {
        "cases by status": dict(
            BookingRequest.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
        "appointments": Appointment.objects.count(),
        "invoices issued": Invoice.objects.exclude(display_number="").count(),
        "payment allocations": PaymentAllocation.objects.count(),
    }


def drain(*, seconds: float, workers: Workers | None) -> dict:
    """Wait for the outbox to empty (bounded); then deliver, as a lapsed lease would, the rows a
    killed worker left claimed."""
    from django.db.models import Q
    from django.utils import timezone

    from medworks.notifications.models import OutboxMessage, OutboxStatus
    from medworks.notifications.services import CLAIM_LEASE, outbox_message_deliver

    open_ = Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
        # A claim past its due time is a live worker's; one far ahead is a killed worker's.
        live = OutboxMessage.objects.filter(
            status=OutboxStatus.SENDING, next_attempt_at__lt=timezone.now() + CLAIM_LEASE / 2
        ).count()
        if pending == 0 and live == 0:
            break
        time.sleep(0.5)
    drained_s = time.monotonic() - t0
    if workers is not None:
        workers.stop()
    leftover = list(OutboxMessage.objects.filter(open_).values_list("pk", "status"))
    lapsed = collections.Counter()
    for pk, _status in leftover:
        later = timezone.now() + CLAIM_LEASE + dt.timedelta(seconds=1)
        lapsed[outbox_message_deliver(message_id=pk, now=later)] += 1
    return {
        "drain seconds": drained_s,
        "left after drain": collections.Counter(s for _pk, s in leftover),
        "delivered by lapsed lease": dict(lapsed),
    }


def email_report(mailbox: Mailbox) -> dict:
    from medworks.notifications.models import OutboxMessage

    rows = dict(OutboxMessage.objects.values_list("pk", "status"))
    no_recipient = set(
        OutboxMessage.objects.filter(to=[]).values_list("pk", flat=True)
    )  # nobody to send to: failed at once, by design
    received = collections.Counter()
    for message_id, n in mailbox.ids.items():
        match = re.match(r"<outbox-(\d+)@", message_id)
        if match:
            received[int(match.group(1))] += n
    lost = [pk for pk in rows if pk not in no_recipient and received[pk] == 0]
    return {
        "queued": len(rows),
        "sent": sum(1 for s in rows.values() if s == "sent"),
        "no recipient": len(no_recipient),
        "not sent": sorted(pk for pk, s in rows.items() if s != "sent" and pk not in no_recipient),
        "received": sum(1 for pk in rows if received[pk]),
        "lost": len(lost),
        "duplicated": sum(n - 1 for n in received.values() if n > 1),
        "unknown received": sum(n for pk, n in received.items() if pk not in rows),
    }


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def run(args, env: dict) -> int:
    import django

    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))  # tests.factories: the tests' own way to make a clinic
    django.setup()
    from aiosmtpd.controller import Controller
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    secret, world = setup_world()
    connection.close()

    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=int(env["EMAIL_PORT"]))
    smtp.start()
    port = free_port()
    log = Path(env["MEDWORKS_DATA_DIR"]) / "processes.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "medworks.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            "--keep-alive=30",
            "--log-level=warning",
        ],
        env=env,
        cwd=ROOT,
    )
    workers = None
    try:
        wait_until_listening(port, server)
        workers = Workers(env, log)
        stats, stop = Stats(), threading.Event()
        ready = threading.Barrier(args.submitters + args.insurers + args.staff + 1)
        common = {"stats": stats, "stop": stop, "ready": ready}
        http_ = {"port": port, "secret": secret, **common}
        threads = [
            threading.Thread(target=submitter, args=(i,), kwargs=http_, daemon=True)
            for i in range(args.submitters)
        ]
        threads += [
            threading.Thread(target=insurer, args=(i, args.insurers), kwargs=http_, daemon=True)
            for i in range(args.insurers)
        ]
        threads += [
            threading.Thread(
                target=staff, args=(i, args.staff), kwargs={"world": world, **common}, daemon=True
            )
            for i in range(args.staff)
        ]
        for thread in threads:
            thread.start()
        ready.wait(timeout=120)
        with stats.lock:
            stats.latencies.pop("warm-up", None)
        t0 = time.perf_counter()
        next_kill = t0 + KILL_EVERY
        while (now := time.perf_counter()) - t0 < args.seconds:
            if args.kill_workers and now >= next_kill:
                workers.kill_one()
                next_kill += KILL_EVERY
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        wall = time.perf_counter() - t0
        outbox = drain(seconds=args.drain, workers=workers)
        workers_killed, workers = workers.kills, None
    finally:
        if workers is not None:
            workers.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    time.sleep(0.5)  # the last SMTP transactions
    smtp.stop()

    print(f"window {wall:.1f} s (asked {args.seconds} s)")
    print(f"{'kind':<22}{'count':>7}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for kind in sorted(stats.latencies, key=lambda k: (k.startswith("svc_"), k)):
        values = sorted(stats.latencies[kind])
        print(
            f"{kind:<22}{len(values):>7}{len(values) / wall:>9.1f}{pct(values, 50):>9.1f}"
            f"{pct(values, 95):>9.1f}{values[-1]:>9.1f}"
        )
    http_kinds = [k for k in stats.latencies if not k.startswith("svc_")]
    http_all = sorted(v for k in http_kinds for v in stats.latencies[k])
    print(
        f"HTTP all: {len(http_all)} requests, {len(http_all) / wall:.1f} req/s, "
        f"p50 {pct(http_all, 50):.1f} ms, p95 {pct(http_all, 95):.1f} ms"
    )
    print(f"deliberate races: {dict(stats.races) or 'none'}")
    print(f"errors: {len(stats.errors)}")
    for text in stats.errors[:10]:
        print(f"  {text}")
    found = checks()
    double_bookings = sum(found[k] for k in list(found)[:3])
    double_payments = found["invoices over-allocated"] + found["invoices paid twice"]
    print(f"double bookings: {double_bookings}; double payments: {double_payments}; {found}")
    print(f"counts: {counts()}")
    mail = email_report(mailbox)
    print(
        f"emails: queued {mail['queued']}, sent {mail['sent']}, received {mail['received']}, "
        f"lost {mail['lost']}, duplicated {mail['duplicated']}, "
        f"no recipient {mail['no recipient']}, not sent {mail['not sent'][:10]}, "
        f"unknown {mail['unknown received']}; worker kills {workers_killed}"
    )
    print(
        f"outbox drain: {outbox['drain seconds']:.1f} s; left {dict(outbox['left after drain'])}; "
        f"delivered as a lapsed lease would: {outbox['delivered by lapsed lease']}"
    )
    ok = not stats.errors and not double_bookings and not double_payments and not mail["lost"]
    ok = ok and not found["unbalanced journals"] and not mail["not sent"]
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--submitters", type=int, default=12, help="HTTP: submit")
    parser.add_argument("--insurers", type=int, default=4, help="HTTP: confirm and approve")
    parser.add_argument("--staff", type=int, default=4, help="in-process: source, bill, pay")
    parser.add_argument("--workers", type=int, default=2 * len(os.sched_getaffinity(0)) + 1)
    parser.add_argument("--kill-workers", action="store_true", help="SIGKILL one every 10 s")
    parser.add_argument("--drain", type=float, default=120, help="max seconds for the outbox")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (its database is untouched)")
    bench_url = with_database(server_url, BENCH_DB)
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}; "
        f"Python {platform.python_version()}; PostgreSQL {pg_version(server_url)}; gunicorn "
        f"sync x {args.workers}; clients: {args.submitters} submit + {args.insurers} insurer "
        f"(HTTP) + {args.staff} staff (in-process services) for {args.seconds:.0f} s; "
        f"2 medworks workers{', one SIGKILLed every 10 s' if args.kill_workers else ''}",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="medworks-bench-load-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="medworks.settings",
        MEDWORKS_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        MEDWORKS_DOCUMENT_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        MEDWORKS_CARD_KEYS="k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        DATABASE_URL=bench_url,
        MEDWORKS_DATA_DIR=str(root / "data"),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(free_port()),
        EMAIL_USE_TLS="false",
        MEDWORKS_PERIODIC_SECONDS="5",
    )
    pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    pg_admin(server_url, f"CREATE DATABASE {BENCH_DB}")
    try:
        return run(args, env)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # django never set up
            pass
        pg_admin(server_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
