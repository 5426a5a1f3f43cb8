from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "medworks.documents"
    label = "documents"

    def ready(self) -> None:
        # documents builds on bookings: it adds to bookings' workflow and timeline from here,
        # so bookings never imports documents.
        from medworks.bookings.workflow import BOOKING_WORKFLOW
        from medworks.notifications.services import attachment_source_register

        from . import events
        from .guards import paperwork_back
        from .services import document_version_bytes

        events.declare()
        BOOKING_WORKFLOW.register_guard("mark_ready_for_billing", paperwork_back)
        # An email may attach a stored version (by uuid), read and decrypted at send time.
        attachment_source_register("document_version", document_version_bytes)
