"""`medworks api-key create --organisation NAME --name LABEL` and `medworks api-key revoke PREFIX`.

The secret is printed once, alone on stdout (the note about it goes to stderr), so a script can
capture it with $(...); it is never stored or logged. Bad input: one line on stderr, status 2.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from medworks.accounts import selectors, services
from medworks.accounts.models import Organisation
from medworks.core.actor import Actor
from medworks.core.errors import DomainError


class Command(BaseCommand):
    help = "Create or revoke an insurer's API key."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|revoke")
        create = actions.add_parser("create", help="make a key; its secret is printed once")
        create.add_argument("--organisation", required=True, help="the insurer's name")
        create.add_argument("--name", required=True, help="what uses the key")
        revoke = actions.add_parser("revoke", help="stop a key from working")
        revoke.add_argument("prefix", help="the key's first 8 characters, as listed")

    def handle(self, *args, **options) -> None:
        try:
            if options["action"] == "create":
                self._create(options["organisation"], options["name"])
            else:
                self._revoke(options["prefix"])
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None

    def _create(self, organisation_name: str, name: str) -> None:
        organisation = Organisation.objects.filter(name__iexact=organisation_name.strip()).first()
        if organisation is None:
            raise CommandError(f"No organisation called {organisation_name!r}.", returncode=2)
        key, secret = services.api_key_create(
            organisation=organisation, name=name, actor=Actor.system("medworks api-key")
        )
        self.stderr.write(
            f"API key {key.prefix} for {organisation.name} ({key.name}). "
            "Copy it now: it is shown only this once."
        )
        self.stdout.write(secret)

    def _revoke(self, prefix: str) -> None:
        key = selectors.api_key_by_prefix(prefix=prefix)
        services.api_key_revoke(api_key=key, actor=Actor.system("medworks api-key"))
        self.stdout.write(f"Revoked API key {key.prefix} of {key.organisation.name}.")
