import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from medworks.core.errors import DomainError
from medworks.demo.seeding import DEMO_PASSWORD, demo_seed

# How long `--wait-for-server` waits for the demo server to answer before printing anyway.
SERVER_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = (
        "Load the demo network (300+ clinics at real postal codes) and a login for every role; "
        "the logins are printed last."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait-for-server",
            action="store_true",
            help="After loading, wait until the demo server answers at MEDWORKS_BASE_URL, so the "
            "logins are the last thing `make demo` prints.",
        )

    def handle(self, *args, **options):
        try:
            report, logins = demo_seed()
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        url = settings.MEDWORKS_BASE_URL.rstrip("/") + "/"
        if options["wait_for_server"]:
            _wait_for(url)
        self.stdout.write("")
        self.stdout.write(
            f"Demo network: {report.rows_read} rows read, "
            f"{report.locations_created} locations created, "
            f"{report.offerings_created} offerings created."
        )
        if "filebased" in settings.EMAIL_BACKEND:
            self.stdout.write(
                f"Emails are written as files to {settings.EMAIL_FILE_PATH} by the worker."
            )
        if not settings.MEDWORKS_STAFF_REQUIRE_2FA:
            self.stdout.write(
                "Staff sign in with the password alone here (MEDWORKS_STAFF_REQUIRE_2FA=0); "
                "anyone can turn two-step sign-in on from their profile."
            )
        self.stdout.write("")
        self.stdout.write(f"Open {url} and sign in (password for all: {DEMO_PASSWORD}):")
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.role:<36} {login.organisation}")


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + SERVER_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own demo address)
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
