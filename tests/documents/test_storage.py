"""Documents are encrypted at rest; production refuses to start without its key."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from medworks.documents.storage import (
    DocumentDecryptionError,
    EncryptedFileSystemStorage,
    EncryptedStorage,
)

from . import samples

pytestmark = pytest.mark.django_db


def test_a_stored_file_is_encrypted_on_disk_and_reads_back_as_it_was(document_store):
    storage = EncryptedFileSystemStorage(location=str(document_store))
    data = samples.pdf("Patient form")
    name = storage.save("harbour-1/MW-2026-000001/gop/v1", ContentFile(data))

    on_disk = (document_store / name).read_bytes()
    assert on_disk.startswith(b"MWD1")
    assert b"%PDF" not in on_disk and b"Patient form" not in on_disk
    with storage.open(name) as stored:
        assert stored.read() == data


def test_the_same_bytes_stored_twice_are_two_different_ciphertexts(document_store):
    storage = EncryptedFileSystemStorage(location=str(document_store))
    first = storage.save("a", ContentFile(b"%PDF-same"))
    second = storage.save("b", ContentFile(b"%PDF-same"))
    assert (document_store / first).read_bytes() != (document_store / second).read_bytes()


def test_a_file_altered_on_disk_is_refused_not_returned(document_store):
    storage = EncryptedFileSystemStorage(location=str(document_store))
    name = storage.save("x", ContentFile(samples.png()))
    path = document_store / name
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(DocumentDecryptionError, match="altered"):
        storage.open(name)


def test_a_file_sealed_with_another_key_is_a_clear_error(document_store, settings):
    storage = EncryptedFileSystemStorage(location=str(document_store))
    name = storage.save("x", ContentFile(samples.png()))
    settings.MEDWORKS_DOCUMENT_KEY = os.urandom(32)
    with pytest.raises(DocumentDecryptionError, match="another MEDWORKS_DOCUMENT_KEY"):
        storage.open(name)


def test_any_storage_backend_can_be_wrapped_and_only_ever_receives_ciphertext(tmp_path):
    storage = EncryptedStorage(
        backend="django.core.files.storage.FileSystemStorage",
        options={"location": str(tmp_path / "bucket")},
    )
    data = samples.docx()
    name = storage.save("clinic/MW-1/completed_form/v1", ContentFile(data))

    raw = (tmp_path / "bucket" / name).read_bytes()
    assert raw[:4] == b"MWD1" and b"word/document.xml" not in raw
    assert storage.exists(name)
    with storage.open(name) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    with pytest.raises(NotImplementedError):
        storage.url(name)
    storage.delete(name)
    assert not storage.exists(name)


# --- settings ---------------------------------------------------------------------------------

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _start(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter, as a server start would."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDWORKS_")}
    clean.pop("DATABASE_URL", None)
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "medworks.settings",
            "MEDWORKS_DATA_DIR": str(tmp_path),
            "PYTHONPATH": SRC,
            **env,
        }
    )
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(len(settings.MEDWORKS_DOCUMENT_KEY), settings.STORAGES['documents']['BACKEND'])"
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_without_a_document_key_does_not_start(tmp_path):
    result = _start(tmp_path, MEDWORKS_ENV="production", SECRET_KEY="s3cret-for-this-test")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MEDWORKS_DOCUMENT_KEY must be set in production" in result.stderr


def test_an_invalid_document_key_does_not_start_in_any_environment(tmp_path):
    result = _start(tmp_path, MEDWORKS_DOCUMENT_KEY="too-short")
    assert result.returncode != 0
    assert "MEDWORKS_DOCUMENT_KEY must be 32 random bytes" in result.stderr


def test_production_with_a_key_starts_with_the_encrypted_store(tmp_path):
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    result = _start(
        tmp_path,
        MEDWORKS_ENV="production",
        SECRET_KEY="s3cret-for-this-test",
        MEDWORKS_DOCUMENT_KEY=key,
        MEDWORKS_CARD_KEYS="k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["32", "medworks.documents.storage.EncryptedFileSystemStorage"]


def test_another_storage_backend_is_wrapped_by_the_encrypting_storage(tmp_path):
    result = _start(
        tmp_path,
        MEDWORKS_DOCUMENT_STORAGE_BACKEND="django.core.files.storage.FileSystemStorage",
        MEDWORKS_DOCUMENT_STORAGE_OPTIONS='{"location": "/tmp/elsewhere"}',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "medworks.documents.storage.EncryptedStorage"
