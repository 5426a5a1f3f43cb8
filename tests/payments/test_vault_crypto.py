"""The card vault's encryption: a card number is stored sealed, opens only where it was sealed
for, and survives a key rotation (RULES.md, cards: unreadable, managed keys)."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from medworks.payments import vault_crypto
from medworks.payments.vault_crypto import VaultError, key_id_of, reseal, seal, unseal
from medworks.settings import _card_keys

NUMBER = "4111111111111111"
CONTEXT = "card:123:number"
KEY_A = ("key-a", os.urandom(32))
KEY_B = ("key-b", os.urandom(32))


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def keyring(settings):
    def use(*keys):
        settings.MEDWORKS_CARD_KEYS = tuple(keys)

    use(KEY_A)
    return use


# --- sealing and opening --------------------------------------------------------------------


def test_a_sealed_number_opens_to_the_same_number(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    assert isinstance(blob, bytes)
    assert unseal(blob, context=CONTEXT) == NUMBER


def test_the_blob_holds_none_of_the_digits_and_a_new_nonce_each_time(keyring):
    first, second = seal(NUMBER, context=CONTEXT), seal(NUMBER, context=CONTEXT)
    for blob in (first, second):
        assert NUMBER.encode() not in blob
        assert b"1111" not in blob and b"4111" not in blob
        assert NUMBER.encode("utf-16-le") not in blob
    assert first != second  # a random nonce: equal numbers do not give equal blobs


def test_the_blob_layout_names_its_key(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    assert blob[:4] == b"MWC1"
    assert blob[4] == len("key-a")
    assert blob[5:10] == b"key-a"
    # header, 12-byte nonce, the ciphertext (as long as the text) and the 16-byte tag
    assert len(blob) == 10 + 12 + len(NUMBER) + 16
    assert key_id_of(blob) == "key-a"


def test_a_blob_opens_from_a_memoryview_as_postgresql_returns_it(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    assert unseal(memoryview(blob), context=CONTEXT) == NUMBER


def test_text_beyond_ascii_round_trips(keyring):
    assert unseal(seal("Zoë Ébène", context="card:1:name"), context="card:1:name") == "Zoë Ébène"


@pytest.mark.parametrize("other", ["card:124:number", "card:123:security_code", "card:123:"])
def test_a_blob_moved_to_another_row_or_field_does_not_open(keyring, other):
    blob = seal(NUMBER, context=CONTEXT)
    with pytest.raises(VaultError) as caught:
        unseal(blob, context=other)
    assert NUMBER not in str(caught.value) and "1111" not in str(caught.value)


def test_every_altered_byte_is_detected(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    for position in range(len(blob)):  # the header, the nonce, the ciphertext, the tag
        altered = bytearray(blob)
        altered[position] ^= 0x01
        with pytest.raises(VaultError) as caught:
            unseal(bytes(altered), context=CONTEXT)
        assert "1111" not in str(caught.value)


def test_a_truncated_blob_does_not_open(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    for end in (0, 3, 4, 5, 10, 22, 37, len(blob) - 1):
        with pytest.raises(VaultError):
            unseal(blob[:end], context=CONTEXT)


def test_a_key_id_rewritten_to_another_key_of_the_ring_does_not_open(keyring):
    keyring(("key-a", KEY_A[1]), ("key-c", KEY_A[1][::-1]))
    blob = seal(NUMBER, context=CONTEXT)
    moved = blob.replace(b"key-a", b"key-c", 1)
    with pytest.raises(VaultError):
        unseal(moved, context=CONTEXT)


@pytest.mark.parametrize(
    "blob",
    [b"", b"MWD1" + bytes(40), b"hello world, not a vault blob at all", b"MWC1\x00" + bytes(40)],
)
def test_what_is_not_a_vault_blob_is_told_so(keyring, blob):
    with pytest.raises(VaultError, match="not a vault blob"):
        unseal(blob, context=CONTEXT)
    with pytest.raises(VaultError, match="not a vault blob"):
        key_id_of(blob)


def test_text_is_not_a_blob(keyring):
    with pytest.raises(VaultError, match="not a vault blob"):
        unseal(NUMBER, context=CONTEXT)


def test_a_context_is_required(keyring):
    with pytest.raises(ValueError):
        seal(NUMBER, context="")


def test_a_documents_blob_is_not_a_card_blob(keyring):
    from medworks.documents.storage import seal as seal_document

    with pytest.raises(VaultError, match="not a vault blob"):
        unseal(seal_document(NUMBER.encode()), context=CONTEXT)


# --- the keyring and its rotation ---------------------------------------------------------


def test_an_unknown_key_id_is_named_without_the_plaintext(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    keyring(KEY_B)
    with pytest.raises(VaultError) as caught:
        unseal(blob, context=CONTEXT)
    message = str(caught.value)
    assert "'key-a'" in message and "MEDWORKS_CARD_KEYS" in message
    assert "1111" not in message and KEY_A[1].hex() not in message


def test_rotation_a_to_b(keyring):
    blob_a = seal(NUMBER, context=CONTEXT)
    assert key_id_of(blob_a) == "key-a"

    keyring(KEY_B, KEY_A)  # the new key first: it seals, both open
    assert unseal(blob_a, context=CONTEXT) == NUMBER
    assert key_id_of(seal(NUMBER, context=CONTEXT)) == "key-b"
    blob_b = reseal(blob_a, context=CONTEXT)
    assert key_id_of(blob_b) == "key-b"
    assert blob_b != blob_a
    assert reseal(blob_b, context=CONTEXT) == blob_b  # already current: unchanged
    assert unseal(blob_b, context=CONTEXT) == NUMBER

    keyring(KEY_B)  # the old key dropped
    assert unseal(blob_b, context=CONTEXT) == NUMBER
    with pytest.raises(VaultError, match="key-a"):
        unseal(blob_a, context=CONTEXT)
    with pytest.raises(VaultError):
        reseal(blob_a, context=CONTEXT)


def test_reseal_keeps_the_context_and_checks_it(keyring):
    blob = seal(NUMBER, context=CONTEXT)
    keyring(KEY_B, KEY_A)
    with pytest.raises(VaultError):
        reseal(blob, context="card:999:number")
    moved = reseal(blob, context=CONTEXT)
    with pytest.raises(VaultError):
        unseal(moved, context="card:999:number")
    with pytest.raises(VaultError):  # a current blob is checked too, not passed through
        reseal(moved, context="card:999:number")


def test_reseal_of_a_tampered_blob_fails(keyring):
    blob = bytearray(seal(NUMBER, context=CONTEXT))
    blob[-1] ^= 0xFF
    with pytest.raises(VaultError):
        reseal(bytes(blob), context=CONTEXT)


def test_a_keyring_badly_overridden_is_a_configuration_error(settings):
    for bad in ((), (("a", b"short"),), ("not-a-pair",)):
        settings.MEDWORKS_CARD_KEYS = bad
        with pytest.raises(ImproperlyConfigured):
            seal(NUMBER, context=CONTEXT)


def test_the_project_keyring_is_separate_from_the_documents_key():
    from django.conf import settings

    keys = settings.MEDWORKS_CARD_KEYS
    assert isinstance(keys, tuple) and keys
    assert all(isinstance(i, str) and isinstance(k, bytes) and len(k) == 32 for i, k in keys)
    assert settings.MEDWORKS_DOCUMENT_KEY not in [k for _, k in keys]
    assert settings.MEDWORKS_CVC_MAX_HOURS >= 1
    assert vault_crypto.unseal(vault_crypto.seal("x", context="c"), context="c") == "x"


# --- parsing MEDWORKS_CARD_KEYS -----------------------------------------------------------


def _parse(raw: str, *, production: bool = False, document_key: bytes | None = None):
    return _card_keys(raw, production=production, secret_key="s3cret", document_key=document_key)


def test_the_keyring_is_read_in_order_the_first_seals():
    a, b = os.urandom(32), os.urandom(32)
    keys = _parse(f"2026-12:{_b64(a)}, 2025-06:{_b64(b)}")
    assert keys == (("2026-12", a), ("2025-06", b))


def test_keys_without_padding_and_a_trailing_comma_are_read():
    a = os.urandom(32)
    assert _parse(f"k1:{_b64(a).rstrip('=')},") == (("k1", a),)


def test_unset_in_development_a_dev_key_derived_from_the_secret_key():
    import hashlib

    keys = _parse("")
    assert keys == (("dev", hashlib.sha256(b"medworks-card-vault:s3cret").digest()),)
    assert keys[0][1] != hashlib.sha256(b"medworks-documents:s3cret").digest()
    assert _parse("   ") == keys


def test_unset_in_production_does_not_start():
    with pytest.raises(ImproperlyConfigured, match="must be set in production"):
        _parse("", production=True)


def test_set_in_production_is_used():
    a = os.urandom(32)
    assert _parse(f"prod-1:{_b64(a)}", production=True) == (("prod-1", a),)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("k1:not base64 at all!", "urlsafe base64"),
        (f"k1:{_b64(os.urandom(16))}", "32 random bytes"),  # a short key
        (f"k1:{_b64(os.urandom(33))}", "32 random bytes"),  # a long one
        ("k1:" + base64.b64encode(b"\xfb" * 32).decode(), "urlsafe base64"),  # + and /
        (f"K1:{_b64(os.urandom(32))}", "bad key id"),  # capitals
        (f"key_1:{_b64(os.urandom(32))}", "bad key id"),
        (f"{'k' * 17}:{_b64(os.urandom(32))}", "bad key id"),  # 17 characters
        (f":{_b64(os.urandom(32))}", "bad key id"),
        (_b64(os.urandom(32)), "must be id:key"),  # the id forgotten
        (",", "must look like"),
    ],
)
def test_a_bad_keyring_does_not_start_and_never_shows_the_key(raw, says):
    with pytest.raises(ImproperlyConfigured, match=says) as caught:
        _parse(raw)
    secret = raw.partition(":")[2] or raw
    assert len(secret) < 10 or secret not in str(caught.value)


def test_a_key_id_listed_twice_or_a_key_reused_is_refused():
    a, b = _b64(os.urandom(32)), _b64(os.urandom(32))
    with pytest.raises(ImproperlyConfigured, match="listed twice"):
        _parse(f"k1:{a},k1:{b}")
    with pytest.raises(ImproperlyConfigured, match="repeats the key"):
        _parse(f"k1:{a},k2:{a}")


def test_the_documents_key_is_not_a_card_key():
    key = os.urandom(32)
    with pytest.raises(ImproperlyConfigured, match="MEDWORKS_DOCUMENT_KEY"):
        _parse(f"k1:{_b64(key)}", document_key=key)
