from django.core.management.base import BaseCommand, CommandError

from medworks.core.errors import DomainError
from medworks.demo.seeding import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Load the demo network (300+ clinics at real postal codes) and a login for every role."

    def handle(self, *args, **options):
        try:
            report, logins = demo_seed()
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        self.stdout.write(
            f"Demo network: {report.rows_read} rows read, "
            f"{report.locations_created} locations created, "
            f"{report.offerings_created} offerings created."
        )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.role:<36} {login.organisation}")
        self.stdout.write("")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in.")
