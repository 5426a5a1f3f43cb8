"""`medworks worker`: deliver background tasks (django-tasks database backend) and run the
periodic jobs (the outbox sweep, day-before reminders) beside them, and the jobs with a cadence
of their own (MEDWORKS_SCHEDULED_JOBS: the booking inbox's mail fetch, when configured).

Every option of django-tasks' `db_worker` works here (`--batch`, `--max-tasks`, `--queue-name`,
`--interval`...). Run one or several workers: tasks are claimed with row locks, and every
periodic job claims its rows with a conditional UPDATE, so workers never do a job twice.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("medworks.worker")


def run_periodic_jobs(paths: list[str] | None = None) -> dict[str, int | None]:
    """Run each job of MEDWORKS_PERIODIC_JOBS (or of `paths`) once; one job failing does not
    stop the others."""
    results: dict[str, int | None] = {}
    for path in settings.MEDWORKS_PERIODIC_JOBS if paths is None else paths:
        try:
            results[path] = import_string(path)()
        except Exception as exc:
            # The class only: exception texts can quote database values (patient data).
            logger.error("periodic job %s failed (%s)", path, type(exc).__name__)
            results[path] = None
    return results


class PeriodicJobs(threading.Thread):
    """Runs the periodic jobs every `seconds` until stopped (a daemon: dies with the worker)."""

    def __init__(self, seconds: float, paths: list[str] | None = None) -> None:
        super().__init__(name="medworks-periodic", daemon=True)
        self.seconds = seconds
        self.paths = paths
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            # This thread has its own database connection: drop it if the server closed it
            # or it outlived CONN_MAX_AGE, as a request would.
            close_old_connections()
            results = run_periodic_jobs(self.paths)
            close_old_connections()
            logger.debug("periodic jobs: %s", results)
            self.stopped.wait(self.seconds)


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
        if not no_periodic:
            # Jobs with a cadence of their own (MEDWORKS_SCHEDULED_JOBS: the mail fetch, every
            # MEDWORKS_IMAP_POLL_SECONDS when a mailbox is configured), each in its own thread.
            scheduled = list(settings.MEDWORKS_SCHEDULED_JOBS)
            if options["batch"]:
                # One pass first, so what the jobs enqueue is delivered by this same batch.
                run_periodic_jobs()
                run_periodic_jobs([path for path, _seconds in scheduled])
            else:
                PeriodicJobs(periodic_seconds).start()
                for path, seconds in scheduled:
                    PeriodicJobs(seconds, [path]).start()
        super().handle(*args, **options)
