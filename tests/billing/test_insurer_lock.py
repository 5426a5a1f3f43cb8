"""The insurer's row is locked while its payments are applied, without holding up the rows
that point at the insurer: a new case while finance records a payment (found by
bench/bench_load.py, where a plain FOR UPDATE deadlocked a payment with new submissions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from medworks.billing.invoices import _insurer_locked
from tests import factories
from tests.billing.invoicing import make_insurer


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_payment_being_applied_does_not_block_a_new_case_of_the_insurer(finance_user):
    insurer = make_insurer(finance_user)
    locked, release = threading.Event(), threading.Event()

    def finance_applies_a_payment():
        try:
            with transaction.atomic():
                _insurer_locked(insurer)
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=finance_applies_a_payment)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A plain FOR UPDATE would make this insert wait for the payment (its
                # foreign-key check takes a key-share lock on the insurer): fail fast instead.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            case = factories.make_booking_request(insurer=insurer)
        assert case.insurer_id == insurer.pk
    finally:
        release.set()
        holder.join(timeout=20)
