"""`/healthz`: whether this desk can work, for the proxy, the orchestrator and monitoring.

    {"status": "ok", "checks": {
        "database": {"ok": true, "ms": 1.2},
        "workers": {"ok": true, "alive": 2, "stale": 0, "threshold_seconds": 300}}}

- database: a `SELECT 1`, timed. Down: status "down", 503.
- workers: the heartbeat rows (notifications/heartbeats.py). Alive: its last claim or sweep
  within MEDWORKS_HEALTH_WORKER_STALE_SECONDS; stale: the others (a worker that died or
  hangs; a worker that stopped properly has no row). None alive: status "degraded", 503
  (pages answer, but no email, reminder or webhook goes out).
- otherwise "ok", 200, whatever the stale count says.

It exposes no data: no names, hosts, versions, settings or counts of anything but workers.
No login, no session, no CSRF (nothing is changed), GET and HEAD only, never cached; it is
exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), so a probe can reach the
app directly over plain HTTP (with a Host header of ALLOWED_HOSTS).
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from medworks.notifications.heartbeats import worker_heartbeats_count

logger = logging.getLogger(__name__)


def _database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The class only: a driver's message can name the host and the user.
        logger.warning("healthz: the database does not answer (%s)", type(exc).__name__)
        return {"ok": False, "ms": None}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _workers(*, database_ok: bool) -> dict:
    threshold = settings.MEDWORKS_HEALTH_WORKER_STALE_SECONDS
    alive = stale = None
    if database_ok:
        try:
            alive, stale = worker_heartbeats_count(stale_seconds=threshold)
        except DatabaseError as exc:
            logger.warning("healthz: the heartbeats cannot be read (%s)", type(exc).__name__)
    return {
        "ok": bool(alive),
        "alive": alive,
        "stale": stale,
        "threshold_seconds": threshold,
    }


@csrf_exempt  # nothing to protect: a POST is answered 405, not the CSRF page
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    database = _database()
    workers = _workers(database_ok=database["ok"])
    if not database["ok"]:
        status = "down"
    elif not workers["ok"]:
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, "checks": {"database": database, "workers": workers}}
    response = HttpResponse(
        json.dumps(body),
        content_type="application/json",
        status=200 if status == "ok" else 503,
    )
    response["Cache-Control"] = "no-store"
    if request.method == "HEAD":
        response.content = b""  # the status says it all, whatever server is in front
    return response
