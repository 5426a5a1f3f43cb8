"""Seed the sales-tax table with the GST/HST/QST rates of RULES.md (Money and sales tax).

Idempotent (matched on province, tax and first day; an existing row is left as it is), so
tests that flush the database can run `seed` again. PST of BC, MB and SK on these services
is [verify] in RULES.md: not seeded, so not applied; finance can add it to the table once the
accountant confirms.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

SOURCE = "CRA GST/HST and Revenu Québec QST rates, as listed in RULES.md"

RATES = [
    # province, tax, rate, first day, last day (None: open)
    *[
        (province, "GST", "0.05", dt.date(2008, 1, 1), None)
        for province in ("AB", "NT", "NU", "YT", "BC", "MB", "SK")
    ],
    ("ON", "HST", "0.13", dt.date(2010, 7, 1), None),
    ("NB", "HST", "0.15", dt.date(2016, 7, 1), None),
    ("NL", "HST", "0.15", dt.date(2016, 7, 1), None),
    ("PE", "HST", "0.15", dt.date(2016, 10, 1), None),
    ("NS", "HST", "0.15", dt.date(2010, 7, 1), dt.date(2025, 3, 31)),
    ("NS", "HST", "0.14", dt.date(2025, 4, 1), None),
    ("QC", "GST", "0.05", dt.date(2013, 1, 1), None),
    ("QC", "QST", "0.09975", dt.date(2013, 1, 1), None),
]


def seed(apps, schema_editor):
    TaxRate = apps.get_model("billing", "TaxRate")
    for province, tax_name, rate, valid_from, valid_to in RATES:
        TaxRate.objects.get_or_create(
            province=province,
            tax_name=tax_name,
            valid_from=valid_from,
            defaults={"rate": Decimal(rate), "valid_to": valid_to, "source": SOURCE},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
