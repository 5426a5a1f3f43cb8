"""Background tasks: thin, idempotent, by id. The delivery row is the truth; see services."""

from django_tasks import task

from .services import webhook_delivery_deliver


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Make a delivery's due attempt; running it twice for one attempt sends it once."""
    return webhook_delivery_deliver(delivery_id=delivery_id)
