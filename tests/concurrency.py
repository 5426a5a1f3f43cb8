"""Run calls at the same moment in threads, for the race tests (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from medworks.core.errors import DomainError


def run_at_once(*calls: Callable[[], Any]) -> tuple[list[Any], list[DomainError]]:
    """Start every call behind one barrier; return (results, domain errors), in finishing order.

    Each thread has its own database connection (closed at the end), so the calls really
    compete for the same rows.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[DomainError] = []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except DomainError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors
