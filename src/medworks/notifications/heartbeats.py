"""The workers' heartbeat: each `medworks worker` process keeps one row (`WorkerHeartbeat`)
saying when it last claimed a task and when it last ran the periodic jobs; /healthz reads them.

Cheap by design: one UPDATE after each task the loop runs (at most one per loop iteration),
one after each pass of the periodic jobs (every MEDWORKS_PERIODIC_SECONDS), plus the prune of
rows left by workers that died, at start and with each pass.

A worker is alive while its last claim or sweep is within MEDWORKS_HEALTH_WORKER_STALE_SECONDS.
A worker started with `--no-periodic` writes only when it runs tasks: idle longer than the
threshold, it counts as stale, so at least one worker must run the periodic jobs (the default).
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.db.models import Count, Q
from django.utils import timezone

from .models import WorkerHeartbeat

# The row of a worker silent this long is deleted (it died without deleting it).
PRUNE_AFTER = dt.timedelta(days=1)


def worker_heartbeat_name() -> str:
    """This process's name: hostname:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def worker_heartbeat_register(*, name: str, now: dt.datetime | None = None) -> WorkerHeartbeat:
    """The row of a worker starting (a name reused by a restarted container starts afresh),
    and the rows of workers long dead pruned."""
    now = now or timezone.now()
    worker_heartbeats_prune(now=now)
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"started_at": now, "last_claimed_at": None, "last_swept_at": None}
    )
    return heartbeat


def _beat(name: str, field: str, now: dt.datetime | None) -> None:
    now = now or timezone.now()
    if not WorkerHeartbeat.objects.filter(name=name).update(**{field: now}):
        # Pruned while idle for a day (a --no-periodic worker), or never registered.
        WorkerHeartbeat.objects.update_or_create(name=name, defaults={field: now})


def worker_heartbeat_claimed(*, name: str, now: dt.datetime | None = None) -> None:
    """The worker `name` just claimed and ran a task (one UPDATE)."""
    _beat(name, "last_claimed_at", now)


def worker_heartbeat_swept(*, name: str, now: dt.datetime | None = None) -> None:
    """The worker `name` just ran the periodic jobs (one UPDATE), and dead workers' rows go."""
    _beat(name, "last_swept_at", now)
    worker_heartbeats_prune(now=now)


def worker_heartbeat_stopped(*, name: str) -> None:
    """The worker `name` stops properly: its row goes, so stale means died or hung."""
    WorkerHeartbeat.objects.filter(name=name).delete()


def worker_heartbeats_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the rows of workers silent for PRUNE_AFTER; how many went."""
    cutoff = (now or timezone.now()) - PRUNE_AFTER
    silent = (
        Q(started_at__lt=cutoff)
        & (Q(last_claimed_at__isnull=True) | Q(last_claimed_at__lt=cutoff))
        & (Q(last_swept_at__isnull=True) | Q(last_swept_at__lt=cutoff))
    )
    deleted, _by_model = WorkerHeartbeat.objects.filter(silent).delete()
    return deleted


def worker_heartbeats_count(
    *, stale_seconds: int, now: dt.datetime | None = None
) -> tuple[int, int]:
    """(alive, stale): workers whose last claim or sweep is within `stale_seconds`, and the
    others. One query."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=stale_seconds)
    alive = Q(last_claimed_at__gte=cutoff) | Q(last_swept_at__gte=cutoff)
    counts = WorkerHeartbeat.objects.aggregate(total=Count("pk"), alive=Count("pk", filter=alive))
    return counts["alive"], counts["total"] - counts["alive"]
