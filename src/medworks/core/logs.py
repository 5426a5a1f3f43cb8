"""Log lines that say which request or task wrote them, as JSON in production, with no card
number in them.

- `log_context(request_id=..., task=...)` sets what every record written inside it carries
  (a contextvar, so each thread, a request's or a worker's, has its own). The web's
  `RequestIdMiddleware` opens one per request; the worker one per task and periodic job.
- `LogContextFilter`, on the handler (settings.LOGGING), copies them onto each record as
  `request_id` and `task`.
- `JsonFormatter` writes one JSON object a line: time (ISO 8601, UTC), level, logger,
  message, request_id, task (when there is one), exc_info (the traceback's text, when there
  is one). Nothing else of the record is written: `extra=` values stay out, so an argument
  given for a log call cannot leak into the output by accident.
- Both formatters (`JsonFormatter`, `TextFormatter`) replace any Luhn-valid 13-19 digit run
  with "[card]" (core/cards.py finds them in every shape people type them). That is a safety
  net: log calls name ids and exception classes, never a person, a card or a document's
  content, and tests/security/test_no_patient_data_in_logs.py checks a whole case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from .cards import find_card_numbers

REDACTED_CARD = "[card]"
# What an id taken from outside (the proxy's X-Request-ID) may look like; anything else is
# replaced, so a header cannot write arbitrary text (or a forged JSON line) into the logs.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("medworks_request_id", default=None)
_task: ContextVar[str | None] = ContextVar("medworks_task", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The value if it is a usable id (1-64 characters of A-Z a-z 0-9 . _ -), else None."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    return _request_id.get()


def current_task() -> str | None:
    return _task.get()


@contextlib.contextmanager
def log_context(*, request_id: str | None = None, task: str | None = None) -> Iterator[str]:
    """Every record written inside carries `request_id` (a new one when None) and `task`."""
    request_id = request_id or new_request_id()
    id_token = _request_id.set(request_id)
    task_token = _task.set(task)
    try:
        yield request_id
    finally:
        _task.reset(task_token)
        _request_id.reset(id_token)


class LogContextFilter(logging.Filter):
    """Puts the current request id and task on every record (None outside any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        if getattr(record, "task", None) is None:
            record.task = _task.get()
        return True


def redact_cards(text: str) -> str:
    """The text with every card number in it replaced by "[card]"."""
    matches = find_card_numbers(text)
    if not matches:
        return text
    parts, position = [], 0
    for match in matches:
        parts += [text[position : match.start], REDACTED_CARD]
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def _context_of(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """The record's request id and task: the filter's, else the context's (a handler without
    the filter, such as a test's)."""
    request_id = getattr(record, "request_id", None) or _request_id.get()
    task = getattr(record, "task", None) or _task.get()
    return request_id, task


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's docstring for its keys)."""

    def format(self, record: logging.LogRecord) -> str:
        request_id, task = _context_of(record)
        line: dict[str, str | None] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_cards(record.getMessage()),
            "request_id": request_id,
        }
        if task:
            line["task"] = task
        if record.exc_info:
            line["exc_info"] = redact_cards(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc_info"] = redact_cards(record.exc_text)
        if record.stack_info:
            line["stack_info"] = redact_cards(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The developer's plain lines, with the request id (or the task) and cards redacted."""

    def __init__(self, fmt: str | None = None, *args, **kwargs) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s", *args, **kwargs
        )

    def format(self, record: logging.LogRecord) -> str:
        request_id, task = _context_of(record)
        record.context = f"{task} {request_id}" if task else (request_id or "-")
        return redact_cards(super().format(record))
