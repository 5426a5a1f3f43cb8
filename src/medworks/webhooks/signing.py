"""Signing secrets and signatures, by the Standard Webhooks convention.

A secret is "whsec_" + base64 of 32 random bytes (the format the `standardwebhooks` package
reads). It is stored sealed with the documents' key (documents.storage.seal: AES-256-GCM) and
shown once, when it is made or rotated. The signature headers are made by the package's own
`Webhook.sign`, never by hand: webhook-id, webhook-timestamp (Unix seconds) and
webhook-signature ("v1,<base64>", several separated by a space while a rotation overlaps).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from standardwebhooks.webhooks import Webhook

from medworks.documents.storage import seal, unseal

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_seal(secret: str) -> bytes:
    return seal(secret.encode("ascii"))


def secret_unseal(blob: bytes) -> str:
    return unseal(bytes(blob)).decode("ascii")


def signature_headers(
    *, secrets_in_use: list[str], msg_id: str, body: str, at: dt.datetime
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed by each secret in use (the
    current one first). `at` is made UTC here: the package reads a naive-looking timestamp."""
    utc = at.astimezone(dt.UTC)
    signatures = [Webhook(s).sign(msg_id=msg_id, timestamp=utc, data=body) for s in secrets_in_use]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(utc.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
