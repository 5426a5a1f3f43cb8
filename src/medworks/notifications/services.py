"""Queue an email: render its template in the recipient's language and write an outbox row.

Call inside the use case's transaction; the worker delivers after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.template.loader import render_to_string
from django.utils import translation

from .models import OutboxMessage


def email_queue(
    *,
    to: Sequence[str],
    template: str,
    language: str = "en",
    context: dict | None = None,
    related: object | None = None,
    attachments: Iterable[tuple[str, str, str]] = (),
) -> OutboxMessage:
    """Render notifications/email/<template>.<language>.txt (first line: subject) and queue it."""
    language = language if language in {"en", "fr"} else "en"
    recipients = [address for address in to if address]
    with translation.override(language):
        text = render_to_string(
            f"notifications/email/{template}.{language}.txt", context or {}
        ).strip()
    subject, _, body = text.partition("\n")
    return OutboxMessage.objects.create(
        to=recipients,
        subject=subject.removeprefix("Subject:").strip()[:255],
        body=body.strip() + "\n",
        language=language,
        template=template,
        attachments=[list(a) for a in attachments],
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )
