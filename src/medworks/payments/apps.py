from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Pre-paying providers (SOP case 4): payment requests and their approvals, the insurer's
    card in the vault, payments out (card, EFT files) and charges in."""

    name = "medworks.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from medworks.billing.orders import card_reference_register

        from . import events
        from .vault import card_reference

        events.declare()
        # The order to finance names the card on file, masked (billing.orders).
        card_reference_register(card_reference)
