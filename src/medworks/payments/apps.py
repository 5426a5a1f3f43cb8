from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Pre-paying providers (SOP case 4): payment requests and their approvals, the insurer's
    card in the vault, payments out (card, EFT files) and charges in."""

    name = "medworks.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from . import events

        events.declare()
