"""Two uploads to one case at once: version numbers never collide and a double submit stores
one file (the case row lock, PostgreSQL)."""

from __future__ import annotations

import io

import pytest

from medworks.documents.models import DocumentVersion
from medworks.documents.services import document_upload
from tests.concurrency import run_at_once
from tests.factories import act

from . import samples

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _upload(case, user, data, document=None):
    return lambda: document_upload(
        case=case,
        kind="insurer_form",
        file=io.BytesIO(data),
        filename="form.pdf",
        actor=act(user),
        document=document,
    )


def test_two_new_versions_at_once_get_numbers_2_and_3(paper_case, insurer_user, booking_agent):
    first = _upload(paper_case, insurer_user, samples.pdf("1"))()
    results, errors = run_at_once(
        _upload(paper_case, insurer_user, samples.pdf("2"), first.document),
        _upload(paper_case, booking_agent, samples.pdf("3"), first.document),
    )
    assert errors == []
    assert sorted(v.number for v in results) == [2, 3]


def test_the_same_file_sent_twice_at_once_is_stored_once(paper_case, insurer_user, document_store):
    results, errors = run_at_once(
        _upload(paper_case, insurer_user, samples.pdf("same")),
        _upload(paper_case, insurer_user, samples.pdf("same")),
    )
    assert len(results) == 1
    assert [e.code for e in errors] == ["document_duplicate"]
    assert DocumentVersion.objects.count() == 1
    assert len([p for p in document_store.rglob("*") if p.is_file()]) == 1
