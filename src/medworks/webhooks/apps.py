from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class WebhooksConfig(AppConfig):
    name = "medworks.webhooks"
    label = "webhooks"
    verbose_name = gettext_lazy("Webhooks")

    def ready(self) -> None:
        # Every case event the insurer's timeline shows becomes deliveries, in the event's own
        # transaction. bookings sits below webhooks and must not know it: the one hook is a
        # post_save of BookingEvent (append-only, so "created" is every row), and it only calls
        # services.deliveries_queue, where the rule is written.
        from django.db.models.signals import post_save

        from medworks.bookings.models import BookingEvent

        post_save.connect(
            _booking_event_saved, sender=BookingEvent, dispatch_uid="webhooks.deliveries_queue"
        )


def _booking_event_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        from .services import deliveries_queue

        deliveries_queue(event=instance)
