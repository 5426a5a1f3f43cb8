from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "medworks.documents"
    label = "documents"

    def ready(self) -> None:
        # documents builds on bookings: it adds to bookings' workflow and timeline from here,
        # so bookings never imports documents.
        from medworks.bookings.workflow import BOOKING_WORKFLOW

        from . import events
        from .guards import paperwork_back

        events.declare()
        BOOKING_WORKFLOW.register_guard("mark_ready_for_billing", paperwork_back)
