"""Encrypted document storage: every byte a storage backend receives is already encrypted.

Two storage classes, both encrypting with AES-256-GCM (the `cryptography` package) under the
key in settings.MEDWORKS_DOCUMENT_KEY:

- `EncryptedFileSystemStorage`, the default: files under DATA_DIR/documents.
- `EncryptedStorage`, a wrapper around any Django storage (django-storages' S3, Azure, ...),
  chosen with MEDWORKS_DOCUMENT_STORAGE_BACKEND. The wrapped backend only ever sees
  ciphertext, so encryption at rest does not depend on the cloud provider's own.

Encryption lives in the storage rather than in the service so that nothing which reads or
writes the "documents" storage can forget it. Each file is one sealed blob:

    b"MWD1" | key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag

The key id (the first 4 bytes of the key's sha256) makes a wrong key a clear error instead of
an authentication failure. Whole files are sealed in memory: documents are capped at
MEDWORKS_DOCUMENT_MAX_BYTES (25 MB by default), which keeps that cheap.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.module_loading import import_string

MAGIC = b"MWD1"
NONCE_BYTES = 12


class DocumentDecryptionError(Exception):
    """The stored blob is not ours, was sealed with another key, or was altered."""


def _key() -> bytes:
    key = settings.MEDWORKS_DOCUMENT_KEY
    if not isinstance(key, bytes) or len(key) != 32:
        raise ImproperlyConfigured("MEDWORKS_DOCUMENT_KEY must be 32 bytes")
    return key


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


def seal(plaintext: bytes) -> bytes:
    key = _key()
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: safe far beyond our file counts
    return MAGIC + _key_id(key) + nonce + AESGCM(key).encrypt(nonce, plaintext, MAGIC)


def unseal(blob: bytes) -> bytes:
    key = _key()
    header = len(MAGIC) + 4 + NONCE_BYTES
    if len(blob) < header + 16 or not blob.startswith(MAGIC):
        raise DocumentDecryptionError("not an encrypted document")
    if blob[4:8] != _key_id(key):
        raise DocumentDecryptionError("sealed with another MEDWORKS_DOCUMENT_KEY")
    nonce = blob[8:header]
    try:
        return AESGCM(key).decrypt(nonce, blob[header:], MAGIC)
    except InvalidTag:
        raise DocumentDecryptionError("the stored document was altered") from None


def _read_all(content: File) -> bytes:
    if hasattr(content, "seek"):
        content.seek(0)
    data = content.read()
    return data.encode() if isinstance(data, str) else data


class EncryptedFileSystemStorage(FileSystemStorage):
    """The default: a FileSystemStorage whose files are sealed blobs. No URLs (no public
    serving): documents are read through documents.services.document_open, which logs."""

    def _save(self, name, content):
        return super()._save(name, ContentFile(seal(_read_all(content))))

    def _open(self, name, mode="rb"):
        with super()._open(name, "rb") as stored:
            return ContentFile(unseal(stored.read()), name=name)

    def url(self, name):
        raise NotImplementedError("documents are never served by URL")


class EncryptedStorage(Storage):
    """Wraps another storage (`backend`, a dotted path, built with `options`) and seals what
    it stores. For MEDWORKS_DOCUMENT_STORAGE_BACKEND (an S3 bucket and the like)."""

    def __init__(self, backend: str, options: dict | None = None):
        self.inner: Storage = import_string(backend)(**(options or {}))

    def _save(self, name, content):
        return self.inner.save(name, ContentFile(seal(_read_all(content))))

    def _open(self, name, mode="rb"):
        with self.inner.open(name, "rb") as stored:
            return ContentFile(unseal(stored.read()), name=name)

    def get_available_name(self, name, max_length=None):
        return self.inner.get_available_name(name, max_length=max_length)

    def exists(self, name):
        return self.inner.exists(name)

    def delete(self, name):
        self.inner.delete(name)

    def size(self, name):
        return self.inner.size(name)  # of the sealed blob

    def listdir(self, path):
        return self.inner.listdir(path)

    def url(self, name):
        raise NotImplementedError("documents are never served by URL")
