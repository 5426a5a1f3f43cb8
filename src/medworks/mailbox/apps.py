from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class MailboxConfig(AppConfig):
    name = "medworks.mailbox"
    label = "mailbox"
    verbose_name = gettext_lazy("Booking inbox")

    def ready(self) -> None:
        # mailbox builds on bookings: it declares its kind on the case timeline from here, so
        # bookings never imports mailbox (as documents and billing do).
        from . import events

        events.declare()
