"""/healthz: the database and the workers' heartbeat, as JSON, for the proxy and the
orchestrator; no login, no session, no data."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from medworks.notifications.heartbeats import (
    worker_heartbeat_claimed,
    worker_heartbeat_name,
    worker_heartbeat_register,
    worker_heartbeat_swept,
)
from medworks.notifications.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

URL = "/healthz"


def _ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


@pytest.fixture
def live_worker():
    """A worker that ran the periodic jobs a moment ago."""
    name = worker_heartbeat_name()
    worker_heartbeat_register(name=name)
    worker_heartbeat_swept(name=name)
    return WorkerHeartbeat.objects.get(name=name)


def test_it_answers_ok_with_a_fresh_heartbeat(client, live_worker):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]) == {"database", "workers"}
    database = body["checks"]["database"]
    assert database["ok"] is True and isinstance(database["ms"], float) and database["ms"] >= 0
    assert body["checks"]["workers"] == {
        "ok": True,
        "alive": 1,
        "stale": 0,
        "threshold_seconds": 300,
    }


def test_a_worker_that_only_ran_a_task_recently_is_alive(client):
    WorkerHeartbeat.objects.create(name="w:1", started_at=_ago(3600))
    worker_heartbeat_claimed(name="w:1")
    assert client.get(URL).json()["checks"]["workers"]["alive"] == 1


def test_with_no_worker_it_is_degraded_and_answers_503(client):
    response = client.get(URL)
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["workers"] == {
        "ok": False,
        "alive": 0,
        "stale": 0,
        "threshold_seconds": 300,
    }


def test_a_worker_silent_past_the_threshold_is_stale_and_the_desk_degraded(client, settings):
    settings.MEDWORKS_HEALTH_WORKER_STALE_SECONDS = 120
    WorkerHeartbeat.objects.create(
        name="w:1", started_at=_ago(3600), last_claimed_at=_ago(121), last_swept_at=_ago(400)
    )
    response = client.get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["workers"] == {
        "ok": False,
        "alive": 0,
        "stale": 1,
        "threshold_seconds": 120,
    }
    # Then it sweeps again: alive.
    worker_heartbeat_swept(name="w:1")
    assert client.get(URL).status_code == 200


def test_one_worker_alive_is_enough_and_a_dead_ones_row_is_counted_stale(client, live_worker):
    WorkerHeartbeat.objects.create(name="dead:7", started_at=_ago(7200), last_swept_at=_ago(7000))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["checks"]["workers"] | {"threshold_seconds": None} == {
        "ok": True,
        "alive": 1,
        "stale": 1,
        "threshold_seconds": None,
    }


def test_with_the_database_down_it_is_down_and_answers_503(client, live_worker):
    with mock.patch.object(
        BaseDatabaseWrapper, "cursor", side_effect=OperationalError("no route to db.internal")
    ):
        response = client.get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"] == {"ok": False, "ms": None}
    assert body["checks"]["workers"]["ok"] is False
    assert body["checks"]["workers"]["alive"] is None
    assert "db.internal" not in response.content.decode()


def test_it_exposes_no_names_hosts_or_users(client, live_worker, insurer_user):
    WorkerHeartbeat.objects.create(name="dead-host.internal:4242", started_at=_ago(9000))
    text = client.get(URL).content.decode()
    assert live_worker.name not in text
    for secret in (
        socket.gethostname(),
        f":{os.getpid()}",
        getpass.getuser(),
        "dead-host",
        "4242",
        insurer_user.username,
        "Maple Assist",
    ):
        assert secret not in text, secret
    # Only the documented keys, nothing more.
    assert set(json.loads(text)["checks"]["workers"]) == {
        "ok",
        "alive",
        "stale",
        "threshold_seconds",
    }


def test_an_anonymous_probe_gets_no_session_or_csrf_cookie(client, live_worker):
    response = client.get(URL)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    assert not client.cookies
    assert "Set-Cookie" not in response.headers


def test_a_signed_in_person_gets_the_same_answer_and_no_login_is_asked(
    client, live_worker, insurer_user
):
    client.force_login(insurer_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_head_answers_the_same_status_without_a_body(client, live_worker):
    response = client.head(URL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.content == b""
    WorkerHeartbeat.objects.all().delete()
    assert client.head(URL).status_code == 503


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_other_methods_are_refused_with_405_not_a_csrf_page(method, live_worker):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_it_is_not_sent_to_https_behind_the_proxy_while_pages_are(client, settings, live_worker):
    settings.SECURE_SSL_REDIRECT = True
    # The orchestrator's probe, straight at the app over plain HTTP.
    assert client.get(URL).status_code == 200
    login = client.get("/login/")
    assert login.status_code == 301 and login["Location"].startswith("https://")
    # Through the proxy (HTTPS) it answers too.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(URL, HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_it_carries_the_security_headers_and_a_request_id(client, live_worker):
    response = client.get(URL, HTTP_X_REQUEST_ID="probe-1")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"] == "probe-1"


def test_the_heartbeat_count_is_one_query(client, live_worker, django_assert_num_queries):
    from medworks.notifications.heartbeats import worker_heartbeats_count

    with django_assert_num_queries(1):
        assert worker_heartbeats_count(stale_seconds=300) == (1, 0)


def test_it_lives_at_the_root_outside_the_web_pages_routes():
    """Not a page: none of the web: namespace's rules (a capability or listed public; below
    500 whatever the input) apply to a probe whose 503 is its meaning."""
    from django.urls import get_resolver, reverse

    assert reverse("healthz") == URL
    assert "healthz" not in {p.name for p in get_resolver("medworks.web.urls").url_patterns}
