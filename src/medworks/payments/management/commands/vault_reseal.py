"""`medworks vault-reseal`: seal every secret of the vault (insurers' cards, providers' bank
details) again under the current key, the first of MEDWORKS_CARD_KEYS.

Rotating the vault's key: put the new key first in MEDWORKS_CARD_KEYS (keep the old one after
it), restart, run this, then drop the old key. Prints how many values moved. A value that no
listed key opens (the key it was sealed with was dropped too early) stops it with one line on
stderr and exit status 1, nothing changed (one transaction).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from medworks.payments.vault import vault_reseal
from medworks.payments.vault_crypto import VaultError


class Command(BaseCommand):
    help = "Seal every card and bank secret again under the vault's current key."

    def handle(self, *args, **options) -> None:
        try:
            moved = vault_reseal()
        except VaultError as exc:
            raise CommandError(
                _(
                    "Nothing was re-sealed: %(why)s. Put the key it was sealed with back in "
                    "MEDWORKS_CARD_KEYS."
                )
                % {"why": exc}
            ) from None
        self.stdout.write(_("%(count)s secrets sealed under the current key.") % {"count": moved})
