"""`medworks worker`: deliver background tasks (django-tasks database backend) and run the
periodic jobs (the outbox sweep, day-before reminders) beside them, and the jobs with a cadence
of their own (MEDWORKS_SCHEDULED_JOBS: the booking inbox's mail fetch, when configured).

Every option of django-tasks' `db_worker` works here (`--batch`, `--max-tasks`, `--queue-name`,
`--interval`...). Run one or several workers: tasks are claimed with row locks, and every
periodic job claims its rows with a conditional UPDATE, so workers never do a job twice.

Each worker keeps its heartbeat row (notifications/heartbeats.py, read by /healthz): one
UPDATE after each task it runs, one after each pass of the periodic jobs; the row goes when
the worker stops properly (a `--batch` run leaves it: a batch run from a timer counts as
alive while its last pass is recent). Each task and periodic job runs in a log context of its
own (core/logs.py): its lines carry `task` (the task's or job's dotted path) and a new
request id.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.module_loading import import_string
from django_tasks_db.management.commands import db_worker

from medworks.core.logs import log_context
from medworks.notifications.heartbeats import (
    worker_heartbeat_claimed,
    worker_heartbeat_name,
    worker_heartbeat_register,
    worker_heartbeat_stopped,
    worker_heartbeat_swept,
)

logger = logging.getLogger("medworks.worker")


def run_periodic_jobs(paths: list[str] | None = None) -> dict[str, int | None]:
    """Run each job of MEDWORKS_PERIODIC_JOBS (or of `paths`) once; one job failing does not
    stop the others."""
    results: dict[str, int | None] = {}
    for path in settings.MEDWORKS_PERIODIC_JOBS if paths is None else paths:
        with log_context(task=path):
            try:
                results[path] = import_string(path)()
            except Exception as exc:
                # The class only: exception texts can quote database values (patient data).
                logger.error("periodic job %s failed (%s)", path, type(exc).__name__)
                results[path] = None
    return results


def _heartbeat_safely(beat, name: str) -> None:
    """A heartbeat that cannot be written (the database away a moment) stops nothing."""
    try:
        beat(name=name)
    except Exception as exc:
        logger.warning("worker heartbeat not written (%s)", type(exc).__name__)


class PeriodicJobs(threading.Thread):
    """Runs the periodic jobs every `seconds` until stopped (a daemon: dies with the worker).
    With `heartbeat` (the worker's name), each pass is recorded as the worker's sweep."""

    def __init__(
        self, seconds: float, paths: list[str] | None = None, heartbeat: str | None = None
    ) -> None:
        super().__init__(name="medworks-periodic", daemon=True)
        self.seconds = seconds
        self.paths = paths
        self.heartbeat = heartbeat
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            # This thread has its own database connection: drop it if the server closed it
            # or it outlived CONN_MAX_AGE, as a request would.
            close_old_connections()
            results = run_periodic_jobs(self.paths)
            if self.heartbeat:
                _heartbeat_safely(worker_heartbeat_swept, self.heartbeat)
            close_old_connections()
            logger.debug("periodic jobs: %s", results)
            self.stopped.wait(self.seconds)


class Worker(db_worker.Worker):
    """django-tasks-db's loop; each task in its own log context, and the heartbeat after it."""

    def __init__(self, *, heartbeat: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.heartbeat = heartbeat

    def run_task(self, db_task_result) -> None:
        with log_context(task=db_task_result.task_path):
            super().run_task(db_task_result)
        _heartbeat_safely(worker_heartbeat_claimed, self.heartbeat)


class Command(db_worker.Command):
    help = "Deliver background tasks (emails...) and run the periodic jobs (sweep, reminders)."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        # The reloader forks a child and would run the periodic jobs in both processes.
        parser.set_defaults(reload=False)
        parser.add_argument(
            "--periodic-seconds",
            type=float,
            default=settings.MEDWORKS_PERIODIC_SECONDS,
            help="Run the periodic jobs this often (default: %(default)s seconds).",
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="Only deliver tasks; another worker runs the periodic jobs.",
        )

    def handle(self, *args, periodic_seconds: float, no_periodic: bool, **options) -> None:
        name = worker_heartbeat_name()
        worker_heartbeat_register(name=name)
        try:
            if not no_periodic:
                # Jobs with a cadence of their own (MEDWORKS_SCHEDULED_JOBS: the mail fetch,
                # every MEDWORKS_IMAP_POLL_SECONDS when a mailbox is configured), each in its
                # own thread.
                scheduled = list(settings.MEDWORKS_SCHEDULED_JOBS)
                if options["batch"]:
                    # One pass first, so what the jobs enqueue is delivered by this same batch.
                    run_periodic_jobs()
                    run_periodic_jobs([path for path, _seconds in scheduled])
                    _heartbeat_safely(worker_heartbeat_swept, name)
                else:
                    PeriodicJobs(periodic_seconds, heartbeat=name).start()
                    for path, seconds in scheduled:
                        PeriodicJobs(seconds, [path]).start()
            self._run_worker(name=name, **options)
        finally:
            if not options["batch"]:
                _heartbeat_safely(worker_heartbeat_stopped, name)

    def _run_worker(
        self,
        *,
        name: str,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **_options,
    ) -> None:
        """db_worker.Command.handle (django-tasks-db 0.13), with the Worker above."""
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together: no autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            heartbeat=name,
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
