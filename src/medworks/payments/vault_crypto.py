"""The card vault's encryption: what the vault stores of a card is a sealed blob, never text.

AES-256-GCM (the `cryptography` package) under the keyring settings.MEDWORKS_CARD_KEYS,
separate from the documents' key (RULES.md, cards: a stored card number is unreadable,
encrypted with managed keys). Each value is one blob:

    b"MWC1" | key id length (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext and tag

The first key of the keyring seals; every key of it opens what it sealed, found by the key id
the blob names. Rotation: put a new key first, `reseal` every blob, then drop the old key.

Each value is sealed for a `context` naming where it belongs ("card:123:number",
"card:123:security_code"), bound as GCM associated data together with the header: a blob
copied to another row or field, or given another key id, does not open. The keyring is read
at each call, so a rotation (or a test's override_settings) takes effect at once.

No error raised here holds the plaintext, the key or the context's value: only what went wrong.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"MWC1"
NONCE_BYTES = 12  # 96 bits, random: safe far beyond the number of cards a desk stores
TAG_BYTES = 16
MAX_KEY_ID = 16


class VaultError(Exception):
    """A blob that does not open: not a vault blob, sealed with a key no longer in the
    keyring, altered, or sealed for another context. The message never holds the plaintext."""


def _keyring() -> tuple[tuple[str, bytes], ...]:
    keys = tuple(getattr(settings, "MEDWORKS_CARD_KEYS", ()) or ())
    if not keys:
        raise ImproperlyConfigured("MEDWORKS_CARD_KEYS holds no key")
    for entry in keys:
        if not (
            isinstance(entry, tuple | list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and 1 <= len(entry[0]) <= MAX_KEY_ID
            and entry[0].isascii()
            and isinstance(entry[1], bytes)
            and len(entry[1]) == 32
        ):
            raise ImproperlyConfigured(
                "MEDWORKS_CARD_KEYS must be (key id, 32-byte key) pairs, ids of 1 to 16 "
                "ASCII characters"
            )
    return keys


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return MAGIC + bytes([len(encoded)]) + encoded


def _associated_data(header: bytes, context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("a vault blob needs a context naming where it belongs")
    return header + context.encode("utf-8")


def _as_bytes(blob) -> bytes:
    if isinstance(blob, bytes | bytearray | memoryview):  # PostgreSQL gives a memoryview
        return bytes(blob)
    raise VaultError("not a vault blob")


def _split(blob) -> tuple[str, bytes, bytes, bytes]:
    """(key id, header, nonce, ciphertext and tag) of a blob, or VaultError."""
    data = _as_bytes(blob)
    if not data.startswith(MAGIC) or len(data) <= len(MAGIC):
        raise VaultError("not a vault blob")
    size = data[len(MAGIC)]
    id_end = len(MAGIC) + 1 + size
    if not 1 <= size <= MAX_KEY_ID or len(data) < id_end + NONCE_BYTES + TAG_BYTES:
        raise VaultError("not a vault blob")
    raw_id = data[len(MAGIC) + 1 : id_end]
    if not raw_id.isascii():
        raise VaultError("not a vault blob")
    nonce_end = id_end + NONCE_BYTES
    return raw_id.decode("ascii"), data[:id_end], data[id_end:nonce_end], data[nonce_end:]


def key_id_of(blob) -> str:
    """The id of the key that sealed the blob (VaultError when it is not a vault blob)."""
    return _split(blob)[0]


def seal(plaintext: str, *, context: str) -> bytes:
    """The text sealed with the current key (the keyring's first) for `context`."""
    if not isinstance(plaintext, str):
        raise TypeError("seal takes text")
    key_id, key = _keyring()[0]
    header = _header(key_id)
    associated = _associated_data(header, context)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), associated)


def unseal(blob, *, context: str) -> str:
    """The text a blob sealed for `context`, opened with the key its id names."""
    key_id, header, nonce, sealed = _split(blob)
    associated = _associated_data(header, context)
    key = dict(_keyring()).get(key_id)
    if key is None:
        raise VaultError(
            f"sealed with the key {key_id!r}, which MEDWORKS_CARD_KEYS no longer holds"
        )
    try:
        plaintext = AESGCM(key).decrypt(nonce, sealed, associated)
    except InvalidTag:
        raise VaultError(
            "the blob does not open: it was altered, or sealed for another card or field"
        ) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:  # authenticated, so ours: but never text we sealed
        raise VaultError("the blob does not hold text") from None


def reseal(blob, *, context: str) -> bytes:
    """The blob sealed with the current key: opened with whichever key sealed it, sealed
    again with the first. A blob already under the current key is checked (it must open for
    `context`) and returned unchanged."""
    current = _keyring()[0][0]
    plaintext = unseal(blob, context=context)
    if key_id_of(blob) == current:
        return _as_bytes(blob)
    return seal(plaintext, context=context)
