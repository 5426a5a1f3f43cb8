"""Screenshots of the main pages for the README, taken from the demo in a real browser.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Builds a throwaway demo database (migrate + `medworks seed-demo`) in a temporary data folder,
starts `medworks runserver` on a free local port, signs in as the demo coordinator with
Playwright driving Debian's Chromium, and saves: login, directory list, partner detail, find a
clinic with results, the import page with a dry-run report, the work queue, and two case pages
(sourcing, dates offered), the reconciliation table, queue and an order in discrepancy, the
dashboard, and the portals (the insurer's in English and in French). Your own
`var/` is untouched.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_SPREADSHEET = ROOT / "src/medworks/demo/data/national-affiliate-partners.xlsx"
# A spreadsheet with typical mistakes makes the import report worth looking at (dry run only).
MESSY_SPREADSHEET = ROOT / "tests/network/fixtures/messy_partners.xlsx"
DEMO_USER = "coordinator"  # sees every staff page, including import
DEMO_PASSWORD = "medworks-demo"  # the demo's published password (medworks.demo.seeding)
PATIENT_POSTAL_CODE = "M5V 3L9"  # downtown Toronto: the demo has clinics near and far
SERVICE_LABEL = "X-ray"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _medworks(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "medworks"), *args], env=env, check=True, **kwargs)  # noqa: S603


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url} within {timeout:.0f} s")


def take(base_url: str, out: Path, chromium: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 800}, device_scale_factor=1
        )
        context.set_default_timeout(15_000)
        page = context.new_page()

        def shot(name: str, *, full_page: bool = True) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            saved.append(path)

        page.goto("/login/")
        shot("login")

        page.get_by_label("Username").fill(DEMO_USER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Back office")).to_be_visible()

        page.goto("/staff/partners/")
        expect(page.locator("#partner-table table")).to_be_visible()
        shot("directory", full_page=False)

        # A network with a few locations: the national chains' pages are too long to show.
        page.goto("/staff/partners/?kind=network")
        rows = page.locator("#partner-table tbody tr")
        counts = [int(rows.nth(i).locator("td").nth(2).inner_text()) for i in range(rows.count())]
        pick = min(range(len(counts)), key=lambda i: (abs(counts[i] - 3), i))
        rows.nth(pick).get_by_role("link").click()
        expect(page.get_by_role("heading", name="Locations")).to_be_visible()
        shot("partner-detail", full_page=False)

        page.goto("/staff/find/")
        page.get_by_label("Patient's postal code").fill(PATIENT_POSTAL_CODE)
        page.get_by_role("combobox", name="Service", exact=True).select_option(label=SERVICE_LABEL)
        page.get_by_role("button", name="Find clinics").click()
        expect(page.get_by_test_id("find-results")).to_be_visible()
        shot("find-a-clinic")

        page.goto("/staff/import/")
        upload = MESSY_SPREADSHEET if MESSY_SPREADSHEET.exists() else DEMO_SPREADSHEET
        page.get_by_label("Spreadsheet").set_input_files(str(upload))
        page.get_by_label("Dry run").check()
        page.get_by_role("button", name="Upload and check").click()
        expect(page.get_by_test_id("import-report")).to_be_visible()
        shot("import")

        # The work queue (demo cases in several states, some waiting too long) and a case
        # in sourcing, with the ranked clinics to choose from.
        page.goto("/staff/bookings/")
        expect(page.get_by_test_id("queue")).to_be_visible()
        shot("work-queue", full_page=False)
        page.goto("/staff/bookings/?state=sourcing")
        page.get_by_test_id("queue").get_by_role("link").first.click()
        expect(page.get_by_test_id("matches")).to_be_visible()
        shot("case-sourcing", full_page=False)
        page.goto("/staff/bookings/?state=dates_offered")
        page.get_by_test_id("queue").get_by_role("link").first.click()
        expect(page.get_by_test_id("offer")).to_be_visible()
        shot("case-dates-offered", full_page=False)
        # Any case, any state, by the patient's name (a POST: no name in the URL).
        page.goto("/staff/bookings/search/")
        page.get_by_role("searchbox").fill("Kilabuk")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_test_id("search-results")).to_be_visible()
        shot("case-search", full_page=False)
        # Reconciliation (SOP case 4 step 6): the SOP table, the coordinator's queue and the
        # order in discrepancy (the demo insurer paid half of its invoice).
        page.goto("/staff/reconciliation/")
        expect(page.get_by_test_id("reconciliation-table")).to_be_visible()
        shot("reconciliation-table", full_page=False)
        page.goto("/staff/reconciliation/queue/")
        expect(page.get_by_test_id("reconciliation-queue")).to_be_visible()
        shot("reconciliation-queue", full_page=False)
        page.locator("[data-testid=queue-row][data-status=discrepancy] a").first.click()
        shot("reconciliation-order", full_page=False)
        context.close()

        # The portals, each signed in as its demo user; one in French (the browser's language).
        for username, locale, pages in [
            (
                "insurer",
                "en-CA",
                [("/portal/", "insurer-portal"), ("/portal/requests/new/", "insurer-new-request")],
            ),
            ("insurer", "fr-CA", [("/portal/", "insurer-portal-fr")]),
            ("clinic", "en-CA", [("/clinic/", "clinic-portal")]),
            # Management's queue of escalations (the Iqaluit case the desk escalated), and
            # finance's settings of an insurer.
            ("senior", "en-CA", [("/staff/escalations/", "escalations")]),
            (
                "finance",
                "en-CA",
                [
                    ("/staff/insurers/", "insurer-settings"),
                    ("/staff/receivables/", "receivables"),
                    ("/staff/payables/", "payables"),
                    ("/staff/dashboard/", "dashboard"),
                ],
            ),
            # The CEO's queue: the pre-payment the Chief of Staff reviewed (SOP case 4).
            ("ceo", "en-CA", [("/staff/payment-requests/", "payment-requests")]),
        ]:
            context = browser.new_context(
                base_url=base_url,
                viewport={"width": 1280, "height": 800},
                device_scale_factor=1,
                locale=locale,
            )
            page = context.new_page()
            page.goto("/login/")
            page.locator("input[name=username]").fill(username)
            page.locator("input[name=password]").fill(DEMO_PASSWORD)
            page.locator(".login-card button[type=submit]").click()
            page.wait_for_load_state()
            for path, name in pages:
                page.goto(path)
                shot(name, full_page=False)
            if username == "senior":
                # The escalated case, the provider form open.
                page.get_by_test_id("escalations").get_by_role("link").first.click()
                page.get_by_text("Record the provider found").click()
                page.get_by_test_id("escalation").scroll_into_view_if_needed()
                shot("case-escalated", full_page=False)
            if username == "ceo":
                page.get_by_test_id("payments-waiting").get_by_role("link").first.click()
                expect(page.get_by_test_id("sop-table")).to_be_visible()
                shot("payment-request", full_page=False)
            context.close()

        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    args = parser.parse_args()
    if not args.chromium.exists():
        raise SystemExit(
            f"Chromium not found at {args.chromium}: install Debian's chromium: "
            "apt-get install chromium"
        )
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="medworks-screenshots-") as data_dir:
        env = {
            **os.environ,
            "MEDWORKS_DATA_DIR": data_dir,
            "MEDWORKS_ENV": "development",
            "DEBUG": "true",  # runserver serves the static files only in debug
            "MEDWORKS_STAFF_REQUIRE_2FA": "false",  # the demo's logins, as `make demo` runs them
            "DJANGO_SETTINGS_MODULE": "medworks.settings",
        }
        env.pop("DATABASE_URL", None)  # always a fresh SQLite demo, never a real database
        print(f"Building the demo database in {data_dir} …")
        _medworks("migrate", "--noinput", env=env, stdout=subprocess.DEVNULL)
        _medworks("seed-demo", env=env, stdout=subprocess.DEVNULL)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = Path(data_dir) / "server.log"
        server = subprocess.Popen(  # noqa: S603 - our own console script
            [str(BIN / "medworks"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(f"{base_url}/login/", server)
            for path in take(base_url, args.out, args.chromium):
                print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)  # the server's side of the failure
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
