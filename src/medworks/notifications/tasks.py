"""Background tasks: thin, idempotent, by id. The outbox row holds the message; see services."""

from django_tasks import task

from .services import outbox_message_deliver


@task()
def deliver_outbox_message(message_id: int) -> str:
    """Deliver one outbox message; running it twice for one message sends it once."""
    return outbox_message_deliver(message_id=message_id)
