"""Every event on a case's timeline reads as words for staff, in English and French: no raw
code such as `gop_issued` ever reaches a page (users' trials)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from medworks.bookings.events import CASE_EVENTS


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_declared_kind_has_a_staff_label_in_words(language):
    kinds = list(CASE_EVENTS)
    assert len(kinds) > 30  # bookings, documents, billing, mailbox all declared theirs
    with translation.override(language):
        for kind in kinds:
            label = CASE_EVENTS.staff_label(kind.code)
            assert label and label != kind.code, kind.code
            assert not re.search(r"[a-z]_[a-z]", label), (kind.code, label)
            assert label[0].isupper(), (kind.code, label)


def test_the_insurer_labels_are_words_too():
    for kind in CASE_EVENTS:
        label = kind.insurer_label({})
        if label is not None:
            assert not re.search(r"[a-z]_[a-z]", label), (kind.code, label)
