from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    """SOP case 4 step 6: the coordinator's four checks per order, the SOP table and its
    exports, month close, and the management dashboard."""

    name = "medworks.reconciliation"
    label = "reconciliation"
    verbose_name = _("Reconciliation")

    def ready(self) -> None:
        from medworks.bookings.workflow import BOOKING_WORKFLOW

        from . import events
        from .guards import reconciled_before_close

        events.declare()
        # "closed: billed and reconciled" (DESIGN.md): bookings never imports this app.
        BOOKING_WORKFLOW.register_guard("close", reconciled_before_close)
