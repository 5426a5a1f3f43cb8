import pytest
from medworks.billing import invoices
from medworks.billing.models import InvoiceSequence
from tests.billing.test_invoice_numbers_race import *  # noqa

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

def test_probe(drafts, finance_user, monkeypatch):
    import time
    from django.db.models import F
    def unlocked(series):
        InvoiceSequence.objects.get_or_create(series=series)
        seq = InvoiceSequence.objects.get(series=series)
        time.sleep(0.05)
        InvoiceSequence.objects.filter(pk=seq.pk).update(next_number=seq.next_number + 1)
        return seq.next_number
    monkeypatch.setattr(invoices, "number_take", unlocked)
    test_parallel_issues_take_one_to_n_without_gap_nor_duplicate(drafts, finance_user)
