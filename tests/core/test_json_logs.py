"""Log lines as JSON with the request id (or the worker's task) on every one, and no card
number in any (core/logs.py, web/request_id.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.urls import path

from medworks.core.logs import (
    JsonFormatter,
    LogContextFilter,
    TextFormatter,
    log_context,
    sane_request_id,
)
from medworks.notifications.models import OutboxMessage

VISA = "4111 1111 1111 1111"
logger = logging.getLogger("medworks.tests.logs")


# --- A page that logs, at its own address ------------------------------------------------------


def chatty_view(request, number):
    logger.info("looking at item %s", number)
    logger.warning("item %s is odd", number)
    return HttpResponse("ok")


def failing_view(request):
    raise RuntimeError("something broke")


urlpatterns = [
    path("items/<int:number>/", chatty_view),
    path("fails/", failing_view),
]


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def captured():
    """Every record at DEBUG, through the production formatter and filter, into a string."""
    out = Captured()
    handler = logging.StreamHandler(out.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


# --- The formatter -----------------------------------------------------------------------------


def _record(msg, *args, exc_info=None, name="medworks.x", level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def test_a_line_is_one_json_object_with_the_documented_keys():
    with log_context(request_id="req-1"):
        line = JsonFormatter().format(_record("case %s taken", "MW-2026-000001"))
    parsed = json.loads(line)
    assert "\n" not in line
    assert set(parsed) == {"time", "level", "logger", "message", "request_id"}
    assert parsed["message"] == "case MW-2026-000001 taken"
    assert parsed["level"] == "INFO" and parsed["logger"] == "medworks.x"
    assert parsed["request_id"] == "req-1"
    assert parsed["time"].endswith("Z") and parsed["time"][10] == "T"


def test_outside_a_request_or_task_the_request_id_is_null_and_there_is_no_task():
    parsed = json.loads(JsonFormatter().format(_record("starting")))
    assert parsed["request_id"] is None and "task" not in parsed


def test_a_traceback_is_one_field_of_the_same_line():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = _record("it failed", exc_info=sys.exc_info(), level=logging.ERROR)
    line = JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    parsed = json.loads(line)
    assert parsed["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad value" in parsed["exc_info"]


def test_a_card_number_in_a_message_its_arguments_or_a_traceback_is_redacted():
    formatter = JsonFormatter()
    for record in (
        _record(f"paid with {VISA} today"),
        _record("paid with %s today", "4111-1111-1111-1111"),
        _record("paid with %s today", 4111111111111111),
    ):
        parsed = json.loads(formatter.format(record))
        assert parsed["message"] == "paid with [card] today"
    try:
        raise ValueError(f"refused {VISA}")
    except ValueError:
        record = _record("it failed", exc_info=sys.exc_info())
    parsed = json.loads(formatter.format(record))
    assert "ValueError: refused [card]" in parsed["exc_info"]
    assert "4111" not in json.dumps(parsed)


def test_digit_runs_that_are_not_cards_are_kept():
    message = "order MW-2026-000123, invoice INV-2026-000001, phone 416-555-0199, 4111111111111112"
    assert json.loads(JsonFormatter().format(_record(message)))["message"] == message


def test_the_text_formatter_says_the_request_id_or_task_and_redacts_too():
    with log_context(request_id="req-9"):
        line = TextFormatter().format(_record(f"card {VISA}"))
    assert "[req-9]" in line and line.endswith("card [card]")
    with log_context(request_id="t-1", task="medworks.x.job"):
        assert "[medworks.x.job t-1]" in TextFormatter().format(_record("hello"))
    assert "[-]" in TextFormatter().format(_record("hello"))


def test_only_sane_ids_are_taken():
    assert sane_request_id("abc-DEF_1.2") == "abc-DEF_1.2"
    assert sane_request_id("a" * 64) == "a" * 64
    for insane in ("", None, "a" * 65, "abc def", 'x"}{"level":"ERROR', "abc\n", "é"):
        assert sane_request_id(insane) is None, insane


# --- Requests ----------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_every_line_of_a_request_carries_the_proxys_id_and_the_answer_says_it(client, captured):
    response = client.get("/items/42/", HTTP_X_REQUEST_ID="proxy-7f3a.1")
    assert response["X-Request-ID"] == "proxy-7f3a.1"
    lines = captured.lines
    assert [line["message"] for line in lines if line["logger"] == logger.name] == [
        "looking at item 42",
        "item 42 is odd",
    ]
    request_line = next(line for line in lines if line["logger"] == "medworks.request")
    # The route, not the path: no ids, tokens or query strings in it.
    assert request_line["message"].startswith("GET /items/<int:number>/ 200 ")
    assert {line["request_id"] for line in lines} == {"proxy-7f3a.1"}


@pytest.mark.urls(__name__)
def test_an_insane_id_from_outside_is_replaced_by_a_new_one(client, captured):
    ids = set()
    for given in ("a" * 65, "bad id", 'x","level":"CRITICAL'):
        captured.stream.truncate(0)
        captured.stream.seek(0)
        response = client.get("/items/1/", HTTP_X_REQUEST_ID=given)
        made = response["X-Request-ID"]
        assert made != given and len(made) == 32 and int(made, 16) >= 0
        assert {line["request_id"] for line in captured.lines} == {made}
        assert given not in captured.stream.getvalue()
        ids.add(made)
    assert len(ids) == 3


@pytest.mark.urls(__name__)
def test_without_an_id_each_request_gets_its_own(client, captured):
    first = client.get("/items/1/")["X-Request-ID"]
    second = client.get("/items/2/")["X-Request-ID"]
    assert first != second
    by_id = {line["request_id"] for line in captured.lines}
    assert by_id == {first, second}


def test_djangos_own_line_for_a_404_carries_the_id_too(client, captured, db):
    response = client.get("/no/such/page/", HTTP_X_REQUEST_ID="r404")
    assert response.status_code == 404
    lines = captured.lines
    not_found = [line for line in lines if line["message"] == "Not Found: /no/such/page/"]
    assert [line["request_id"] for line in not_found] == ["r404"]  # once, with the id
    request_line = next(line for line in lines if line["logger"] == "medworks.request")
    assert request_line["message"].startswith("GET (unrouted) 404 ")
    assert request_line["request_id"] == "r404"


@pytest.mark.urls(__name__)
def test_a_500s_line_carries_the_id_and_its_traceback(captured, db):
    from django.test import Client

    failed = Client(raise_request_exception=False).get("/fails/", HTTP_X_REQUEST_ID="r500")
    assert failed.status_code == 500
    assert failed["X-Request-ID"] == "r500"
    errors = [
        line for line in captured.lines if line["message"] == "Internal Server Error: /fails/"
    ]
    assert [line["request_id"] for line in errors] == ["r500"]
    assert "RuntimeError: something broke" in errors[0]["exc_info"]


def test_the_context_of_a_request_ends_with_it(client, captured, db):
    client.get("/login/", HTTP_X_REQUEST_ID="done-1")
    logger.info("after the request")
    assert captured.lines[-1]["request_id"] is None


# --- The worker --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the loop closes its connection between tasks
def test_the_workers_lines_carry_the_task_and_an_id_per_task(settings, captured):
    settings.MEDWORKS_PERIODIC_JOBS = [
        "medworks.notifications.tests_missing.job",
        "medworks.notifications.services.outbox_sweep",
    ]
    from medworks.notifications.tasks import deliver_outbox_message

    for n in range(2):
        message = OutboxMessage.objects.create(
            to=["desk@clinic.example"], subject=f"Hello {n}", body="Text", template="test"
        )
        deliver_outbox_message.enqueue(message_id=message.pk)

    call_command("worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=1)

    lines = captured.lines
    failed = [line for line in lines if "periodic job" in line["message"]]
    assert [line["task"] for line in failed] == ["medworks.notifications.tests_missing.job"]
    assert failed[0]["request_id"]
    task_path = "medworks.notifications.tasks.deliver_outbox_message"
    task_lines = [line for line in lines if line.get("task") == task_path]
    # django-tasks says each task's start and end, inside its context.
    assert len(task_lines) >= 4
    assert all(line["message"].startswith("Task id=") for line in task_lines)
    ids = {line["request_id"] for line in task_lines}
    assert len(ids) == 2 and None not in ids
    assert failed[0]["request_id"] not in ids


# --- The settings ------------------------------------------------------------------------------


def _log_in_subprocess(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEDWORKS_LOG")}
    base.pop("MEDWORKS_ENV", None)
    code = (
        "import django, logging, os; os.environ['DJANGO_SETTINGS_MODULE']='medworks.settings';"
        "django.setup(); logging.getLogger('medworks.probe').warning('card %s', "
        f"'{VISA}')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )


def test_logs_are_json_on_stderr_when_asked_and_text_by_default_outside_production():
    done = _log_in_subprocess(MEDWORKS_LOG_FORMAT="json")
    assert done.stdout == ""
    parsed = json.loads(done.stderr.strip().splitlines()[-1])
    assert parsed["logger"] == "medworks.probe" and parsed["message"] == "card [card]"
    text = _log_in_subprocess().stderr.strip().splitlines()[-1]
    assert text.endswith("WARNING medworks.probe [-] card [card]")
    bad = _log_in_subprocess(MEDWORKS_LOG_FORMAT="xml")
    assert "MEDWORKS_LOG_FORMAT must be json or text, not 'xml'" in bad.stderr


def test_production_logs_json_by_default():
    import base64

    def key() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()

    done = _log_in_subprocess(
        MEDWORKS_ENV="production",
        SECRET_KEY="test-only-" + key(),
        MEDWORKS_DOCUMENT_KEY=key(),
        MEDWORKS_CARD_KEYS=f"k1:{key()}",
    )
    parsed = json.loads(done.stderr.strip().splitlines()[-1])
    assert parsed["message"] == "card [card]" and parsed["request_id"] is None
