from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "medworks.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # billing builds on bookings: it adds its event kinds to the case timeline and its
        # effects to the booking workflow from here, so bookings never imports billing.
        from medworks.bookings.workflow import BOOKING_WORKFLOW
        from medworks.notifications.services import attachment_source_register

        from . import events
        from .guards import charges_confirmed_before_booking
        from .invoice_emails import ATTACHMENT_SOURCE, invoice_pdf_attachment
        from .quotes import (
            quote_on_case_cancelled,
            quote_on_clinic_chosen,
            quote_on_clinic_declined,
        )

        events.declare()
        # An invoice's email carries its stored PDF, read at send time (invoice_emails.py).
        attachment_source_register(ATTACHMENT_SOURCE, invoice_pdf_attachment)
        # A clinic chosen gets a quote there (no quote when it has no price for a service).
        BOOKING_WORKFLOW.register_effect("select_clinic", quote_on_clinic_chosen)
        # A case cancelled: its standing quote is superseded.
        BOOKING_WORKFLOW.register_effect("cancel", quote_on_case_cancelled)
        # A clinic that cannot offer dates: the quote for it is superseded (back to sourcing).
        BOOKING_WORKFLOW.register_effect("clinic_decline", quote_on_clinic_declined)
        # Where the charges must be confirmed first, no date is approved before they are.
        BOOKING_WORKFLOW.register_guard("approve_date", charges_confirmed_before_booking)
