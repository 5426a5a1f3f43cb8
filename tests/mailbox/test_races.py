"""Two fetches at the same moment (two workers) on PostgreSQL: one case per message.

Both find the message unread and no row for it; both try to store it. The unique Message-ID
makes the second insert wait for the first transaction and then fail: its transaction rolls
back, and it only marks the message read.
"""

from __future__ import annotations

import pytest

from medworks.bookings.models import BookingRequest
from medworks.mailbox.models import InboundEmail
from medworks.mailbox.services import mailbox_fetch
from tests.concurrency import run_at_once

from .conftest import message

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_fetches_at_once_make_one_case(mailbox, maple):
    mailbox.deliver(message("plain.eml"))

    results, errors = run_at_once(mailbox_fetch, mailbox_fetch)

    assert errors == []
    assert sorted((s.created, s.already_seen) for s in results) == [(0, 1), (1, 0)]
    assert BookingRequest.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert mailbox.unseen() == []
