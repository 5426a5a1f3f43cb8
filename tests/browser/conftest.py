"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright cannot download its own browser here, so the Chromium of Debian's `chromium`
package is launched by path. A missing browser FAILS the tests: a skipped browser test
looks green in CI while nothing was checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django's ORM (used by the
# fixtures that build data) refuses to run next to one unless told it is safe, which it is
# here: the loop is Playwright's, and the test thread never awaits.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("MEDWORKS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _serialized_contents() -> dict[str, str]:
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


def _restore_serialized_contents(saved: dict[str, str]) -> None:
    from django.db import connections

    for alias, contents in saved.items():
        if not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents


@pytest.fixture(scope="session")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: "
            "install Debian's chromium: apt-get install chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Entering Playwright's sync API switches greenlets, and with them the context Django
    # keeps its database connections in: the test thread then gets a fresh connection object
    # that lacks the test database's serialized seed (roles, service catalogue). Without it a
    # transactional test's serialized rollback restores nothing and every later test finds
    # empty seed tables. Hand the seed over to the new connection.
    saved = _serialized_contents()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        _restore_serialized_contents(saved)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(page):
    """Sign in through the real login form, as a person would."""
    from tests import factories

    def _log_in(user):
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return _log_in
