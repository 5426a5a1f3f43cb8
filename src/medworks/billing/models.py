"""Pricing data: the dated sales-tax table and each insurer's pricing settings.

Rows here change only through `billing.services` (finance role, audited); quotes read them
through `billing.selectors` and compute with `billing.pricing`.

A case's quotes (`Quote`, with its `QuoteLine`s and `QuoteTax`es) are records with states on
core's machine (`billing/workflow.py`): each version is written once by `billing.quotes` and
never edited; a change is a new version superseding the standing one.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from medworks.core.money import CURRENCY, money_field
from medworks.network.models import Province

# A tax rate is a fraction (0.13 for 13%); five places hold Quebec's 9.975%.
RATE_MAX_DIGITS = 7
RATE_DECIMAL_PLACES = 5
# A markup is a percentage of the clinic cost (50 for 50%), to the hundredth of a percent.
MARKUP_MAX_DIGITS = 7
MARKUP_DECIMAL_PLACES = 2
DEFAULT_MARKUP_PERCENT = Decimal("50")


class TaxName(models.TextChoices):
    GST = "GST", _("GST")  # federal goods and services tax, 5%, where there is no HST
    HST = "HST", _("HST")  # harmonized sales tax: one line, never split federal/provincial
    QST = "QST", _("QST")  # Quebec sales tax, beside the GST
    PST = "PST", _("PST")  # provincial sales tax (BC, MB, SK): not seeded, [verify] in RULES.md


class TaxTreatment(models.TextChoices):
    TAXABLE = "taxable", _("Taxable")  # the place of supply's sales tax on the taxable base
    ZERO_RATED = "zero_rated", _("Zero-rated")  # a taxable supply at 0%: no tax charged
    EXEMPT = "exempt", _("Exempt")  # outside sales tax: no tax charged


class TaxableBase(models.TextChoices):
    COST_PLUS_FEE = "cost_plus_fee", _("Clinic cost plus MedWorks fee")  # the SOP's rule
    FEE_ONLY = "fee_only", _("MedWorks fee only")  # tax on the fee alone ([verify] RULES.md)


class InsurerView(models.TextChoices):
    # Each service's price (clinic cost + fee), the tax and the total; the clinic cost hidden.
    PRICE_TAX_TOTAL = "price_tax_total", _("Each service's price, the tax and the total")
    # The SOP's staff table: clinic cost, MedWorks fee, subtotal, tax lines and total.
    FULL_BREAKDOWN = "full_breakdown", _("Clinic cost, MedWorks fee, tax and total")
    TOTAL_ONLY = "total_only", _("The total only")  # one amount, tax included


class TaxRate(models.Model):
    """One tax of one province over a period of dates (`valid_to` inclusive; null: open)."""

    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    tax_name = models.CharField(_("tax"), max_length=3, choices=TaxName.choices)
    rate = models.DecimalField(
        _("rate"),
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text=_("A fraction: 0.13 for 13%."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("The last day it applies; empty: open.")
    )
    source = models.CharField(_("source"), max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["province", "tax_name", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "tax_name", "valid_from"], name="tax_rate_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="tax_rate_is_a_fraction"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tax_rate_period_in_order",
            ),
        ]
        indexes = [models.Index(fields=["province", "valid_from"], name="tax_rate_lookup")]

    def __str__(self) -> str:
        percent = format((self.rate * 100).normalize(), "f")
        text = f"{self.province} {self.tax_name} {percent}% from {self.valid_from.isoformat()}"
        return f"{text} to {self.valid_to.isoformat()}" if self.valid_to else text


class InvoicingCycle(models.TextChoices):
    PER_CASE = "per_case", _("An invoice per case")
    MONTHLY = "monthly", _("A monthly statement")


class InsurerPricing(models.Model):
    """How one insurer is priced, taxed and invoiced. An insurer without a row gets the
    defaults."""

    insurer = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="pricing",
        limit_choices_to={"kind": "insurer"},
        verbose_name=_("insurer"),
    )
    markup_percent = models.DecimalField(
        _("markup (% of clinic cost)"),
        max_digits=MARKUP_MAX_DIGITS,
        decimal_places=MARKUP_DECIMAL_PLACES,
        default=DEFAULT_MARKUP_PERCENT,
    )
    # Blank: the province where the service is performed (no Canadian business address known).
    place_of_supply = models.CharField(
        _("place of supply"), max_length=2, choices=Province.choices, blank=True
    )
    tax_treatment = models.CharField(
        _("tax treatment"),
        max_length=16,
        choices=TaxTreatment.choices,
        default=TaxTreatment.TAXABLE,
    )
    taxable_base = models.CharField(
        _("taxable base"),
        max_length=16,
        choices=TaxableBase.choices,
        default=TaxableBase.COST_PLUS_FEE,
    )
    insurer_view = models.CharField(
        _("what the insurer sees"),
        max_length=20,
        choices=InsurerView.choices,
        default=InsurerView.PRICE_TAX_TOTAL,
    )
    # Out of network (a pre-paid provider) the insurer always confirms the charges before the
    # booking; in network only when its contract says so.
    in_network_needs_confirmation = models.BooleanField(
        _("in-network bookings wait for the insurer's confirmation of charges"), default=False
    )
    # Invoicing: per case, or the month's cases on one statement; the terms (blank: the
    # setting MEDWORKS_INVOICE_TERMS_DAYS); where invoices go and the address printed on them.
    invoicing = models.CharField(
        _("invoicing"),
        max_length=16,
        choices=InvoicingCycle.choices,
        default=InvoicingCycle.PER_CASE,
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True
    )
    billing_email = models.EmailField(_("billing email"), blank=True)
    billing_address = models.TextField(_("billing address"), blank=True, max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0), name="insurer_pricing_markup_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Pricing of {self.insurer_id}"


class InsurerServiceMarkup(models.Model):
    """A markup for one insurer and one catalogue service, instead of the insurer's own."""

    insurer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="service_markups",
        limit_choices_to={"kind": "insurer"},
    )
    service = models.ForeignKey("network.Service", on_delete=models.PROTECT, related_name="+")
    markup_percent = models.DecimalField(
        _("markup (% of clinic cost)"),
        max_digits=MARKUP_MAX_DIGITS,
        decimal_places=MARKUP_DECIMAL_PLACES,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["insurer", "service"], name="service_markup_unique"),
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0), name="service_markup_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.insurer_id}/{self.service_id}: {self.markup_percent}%"


class InsurerFixedPrice(models.Model):
    """A contract price (before tax) for one insurer and one service: the fee is what remains
    once the clinic cost is paid."""

    insurer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="fixed_prices",
        limit_choices_to={"kind": "insurer"},
    )
    service = models.ForeignKey("network.Service", on_delete=models.PROTECT, related_name="+")
    price = money_field(_("price before tax"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["insurer", "service"], name="fixed_price_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="fixed_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.insurer_id}/{self.service_id}: {self.price}"


# --- Quotes ----------------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    # Born here: sent to the insurer, waiting for it to confirm or dispute the charges.
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")  # the insurer agreed to this total (who, when: below)
    DISPUTED = "disputed", _("Disputed")  # the insurer refused it, saying why (the event's note)
    SUPERSEDED = "superseded", _("Superseded")  # replaced by a newer version, or the case ended


# A quote in one of these stands for its case (at most one per case: a database constraint).
QUOTE_STANDING_STATUSES = frozenset(
    {QuoteStatus.AWAITING_CONFIRMATION, QuoteStatus.CONFIRMED, QuoteStatus.DISPUTED}
)


class CostSource(models.TextChoices):
    DIRECTORY = "directory", _("Clinic price in the directory")  # the location's Offering
    ENTERED = "entered", _("Entered for this case")  # staff entered the clinic's cost


_money = money_field


class Quote(models.Model):
    """One version of a case's charges to its insurer: the figures at the clinic chosen, and
    whether the insurer confirmed them. Written once (`billing.quotes.quote_prepare`), never
    edited; its status moves only through QUOTE_WORKFLOW (`billing/workflow.py`)."""

    case = models.ForeignKey(
        "bookings.BookingRequest",
        on_delete=models.PROTECT,
        related_name="quotes",
        verbose_name=_("case"),
    )
    version = models.PositiveIntegerField(_("version"))  # 1, 2, ... within the case
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=QuoteStatus.choices,
        default=QuoteStatus.AWAITING_CONFIRMATION,
        db_index=True,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    location = models.ForeignKey(
        "network.Location",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clinic location"),
    )
    # The day the rates were read at (for now the day the quote was made; the invoice's issue
    # date replaces it as the tax point when invoices exist).
    tax_point = models.DateField(_("tax point"))
    place_of_supply = models.CharField(_("place of supply"), max_length=2, choices=Province.choices)
    rule = models.TextField(_("rule"))  # which fee rules, place of supply, taxes and rates
    rule_fr = models.TextField(_("rule in French"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    clinic_cost = _money(_("clinic cost"))  # sum of the lines
    medworks_fee = _money(_("MedWorks fee"))  # sum of the lines
    subtotal = _money(_("subtotal"))  # clinic cost + fee: the price before tax
    total = _money(_("total"))  # subtotal + the tax lines
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The insurer's confirmation: who (a user; or, for an API key or a signed email link, which
    # one: the party and its detail), when, and the amount confirmed.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_by_party = models.CharField(_("confirmed as"), max_length=16, blank=True)
    confirmed_by_detail = models.CharField(_("confirmed through"), max_length=64, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_total = _money(_("confirmed total"), null=True, blank=True)

    class Meta:
        ordering = ["case_id", "version"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="quote_version_unique"),
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(status="superseded"),
                name="quote_one_standing_per_case",
            ),
            # Sums are not checked here: SQLite compares decimals as floats. billing.quotes
            # writes them from pricing's rounded lines; the tests check the arithmetic.
            models.CheckConstraint(
                condition=Q(clinic_cost__gte=0) & Q(medworks_fee__gte=0) & Q(total__gte=0),
                name="quote_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Quote {self.pk} v{self.version} of request {self.case_id}"

    @property
    def rule_text(self) -> str:
        """The rule in the reader's language."""
        if self.rule_fr and (translation.get_language() or "").startswith("fr"):
            return self.rule_fr
        return self.rule


class QuoteLine(models.Model):
    """One requested service on a quote: what the clinic is paid, MedWorks' fee, the price."""

    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)  # the order shown
    service = models.ForeignKey(
        "network.Service", on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    cost_source = models.CharField(_("clinic cost from"), max_length=16, choices=CostSource.choices)
    clinic_cost = _money(_("clinic cost"))
    medworks_fee = _money(_("MedWorks fee"))
    amount = _money(_("price before tax"))  # clinic cost + fee
    rule = models.TextField(_("rule"), blank=True)  # how the fee was made

    class Meta:
        ordering = ["quote_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "service"], name="quote_line_one_per_service"),
            models.CheckConstraint(
                condition=Q(clinic_cost__gte=0) & Q(medworks_fee__gte=0),
                name="quote_line_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Line {self.pk} of quote {self.quote_id}"


class QuoteTax(models.Model):
    """One tax line of a quote (one HST line; GST and QST in Quebec; GST alone elsewhere)."""

    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="taxes")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("tax"), max_length=3, choices=TaxName.choices)
    rate = models.DecimalField(
        _("rate"), max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES
    )
    amount = _money(_("amount"))

    class Meta:
        ordering = ["quote_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "name"], name="quote_tax_one_per_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of quote {self.quote_id}"


# --- Invoices to insurers, payments received, the ledger -------------------------------------
# See billing/README.md, "Invoices, payments and the ledger". An invoice is a record with
# states on core's machine (INVOICE_WORKFLOW); it is written as a draft by `billing.invoices`,
# gets its number when issued, and is never edited once issued (save() refuses it): a
# correction is a credit note and a new invoice. Money moves are ledger rows, and balances are
# computed from them (`billing.receivables`), never stored.


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")  # MedWorks bills an insurer
    CREDIT_NOTE = "credit_note", _("Credit note")  # reverses an issued invoice exactly


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # born here: no number, not sent, nothing posted
    ISSUED = "issued", _("Issued")  # numbered, posted to the ledger, its PDF stored
    PARTLY_PAID = "partly_paid", _("Partly paid")  # a payment covered part of it
    PAID = "paid", _("Paid")  # its balance is nil
    OVERDUE = "overdue", _("Overdue")  # past its due date with a balance left
    VOIDED = "voided", _("Voided")  # reversed by a credit note (or a draft discarded)


# An invoice in one of these has a balance the insurer is to pay.
INVOICE_OPEN_STATUSES = frozenset(
    {InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.OVERDUE}
)
# A case on an invoice in one of these is invoiced (no second invoice for it).
INVOICE_LIVE_STATUSES = frozenset(set(InvoiceStatus) - {InvoiceStatus.VOIDED})
# Once issued only these change (through the workflow's door); everything else is frozen.
INVOICE_FIELDS_MOVING_AFTER_ISSUE = frozenset({"status", "status_changed_at"})


class NoBulkChangeQuerySet(models.QuerySet):
    """No bulk update, no delete: these rows change one at a time through their door (an
    invoice's status, through INVOICE_WORKFLOW), or never (the ledger, lines, payments)."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are never updated")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are never deleted")


class InvoiceSequence(models.Model):
    """The next number of one series ("INV-2026", "CN-2026", "RCT-2026"). Taken at issue time
    inside the issuing transaction, with the row locked: a rolled-back issue gives its number
    back, so a series has no gap (`billing.invoices.number_take`)."""

    series = models.CharField(max_length=16, unique=True)
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.series}: next {self.next_number}"


class Invoice(models.Model):
    """An invoice or a credit note to an insurer: its lines, tax lines and totals, and once
    issued its number, dates and the seller's and buyer's particulars as printed."""

    kind = models.CharField(
        _("kind"), max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.DRAFT,
        db_index=True,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    insurer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="invoices",
        limit_choices_to={"kind": "insurer"},
        verbose_name=_("insurer"),
    )
    # The credit note's invoice: the one it reverses.
    credits = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    reason = models.TextField(_("reason"), blank=True)  # why a credit note was issued
    # A monthly statement: the first day of the month it covers (None: one case's invoice).
    statement_month = models.DateField(_("statement month"), null=True, blank=True)
    # Numbered at issue: "INV-2026" and 1 print as INV-2026-000001. None while a draft.
    series = models.CharField(_("series"), max_length=16, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    display_number = models.CharField(_("invoice number"), max_length=32, blank=True)
    issue_date = models.DateField(_("invoice date"), null=True, blank=True)
    terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # RULES.md: the earlier of the invoice date and the payment date. Payments come after the
    # invoice here, so it is the invoice date; the rates were checked at it.
    tax_point = models.DateField(_("tax point"), null=True, blank=True)
    place_of_supply = models.CharField(_("place of supply"), max_length=2, choices=Province.choices)
    language = models.CharField(
        _("language"), max_length=2, choices=[("en", "English"), ("fr", "Français")]
    )
    # What the invoice prints, as it was on the day it was issued.
    buyer_name = models.CharField(_("bill to"), max_length=200, blank=True)
    buyer_address = models.TextField(_("buyer's address"), blank=True)
    seller_name = models.CharField(_("seller"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller's address"), blank=True)
    seller_gst_hst_number = models.CharField(
        _("GST/HST registration number"), max_length=20, blank=True
    )
    seller_qst_number = models.CharField(_("QST registration number"), max_length=20, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    subtotal = _money(_("subtotal"))  # the sum of the lines
    tax_total = _money(_("tax"))  # the sum of the tax lines
    total = _money(_("total"))  # subtotal + tax
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    objects = NoBulkChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_unique_in_series",
            ),
            # Numbered exactly when issued: a draft has no number, an issued one has one.
            models.CheckConstraint(
                condition=(Q(number__isnull=True) & Q(issued_at__isnull=True))
                | (Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="invoice_numbered_when_issued",
            ),
            models.CheckConstraint(
                condition=(Q(kind="credit_note") & Q(credits__isnull=False))
                | (Q(kind="invoice") & Q(credits__isnull=True)),
                name="invoice_credit_note_credits_an_invoice",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax_total__gte=0),
                name="invoice_amounts_not_negative",
            ),
            # total = subtotal + tax, to within a tenth of a cent: SQLite compares decimals
            # as floats, PostgreSQL exactly (amounts are cents, so it means equal there).
            models.CheckConstraint(
                condition=Q(
                    total__gte=models.F("subtotal") + models.F("tax_total") - Decimal("0.001")
                )
                & Q(total__lte=models.F("subtotal") + models.F("tax_total") + Decimal("0.001")),
                name="invoice_total_is_subtotal_plus_tax",
            ),
        ]
        # The invoices page's first page, newest first, without sorting every invoice.
        indexes = [models.Index(fields=["-created_at", "-id"], name="invoice_newest_first")]

    def __str__(self) -> str:
        return self.display_number or f"Draft invoice {self.pk}"

    def save(self, *args, **kwargs):
        """Once issued, only the status moves (through INVOICE_WORKFLOW): anything else is a
        programming error, never a correction (a correction is a credit note)."""
        if self.pk is not None and not self._state.adding:
            fields = kwargs.get("update_fields")
            moving_only = fields is not None and set(fields) <= INVOICE_FIELDS_MOVING_AFTER_ISSUE
            if not moving_only and (
                type(self).objects.filter(pk=self.pk, number__isnull=False).exists()
            ):
                raise TypeError("an issued invoice is never edited: issue a credit note")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("invoices are never deleted: void one with a credit note")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class WrittenOnce(models.Model):
    """A row written once with its invoice and never changed (its lines, taxes, PDF)."""

    objects = NoBulkChangeQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} rows are written once")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are never deleted")


class InvoiceLine(WrittenOnce):
    """One line: a service of a case at its quoted price (clinic cost + MedWorks fee), or on a
    monthly statement one case at its quoted price before tax."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    case = models.ForeignKey(
        "bookings.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
        verbose_name=_("case"),
    )
    # The confirmed quote the amount comes from (checked again when the invoice is issued).
    quote = models.ForeignKey(
        Quote, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    service = models.ForeignKey(
        "network.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service"),
    )
    description = models.TextField(_("description"))
    amount = _money(_("amount"))  # before tax

    class Meta:
        ordering = ["invoice_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_line_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Line {self.position} of invoice {self.invoice_id}"


class InvoiceTax(WrittenOnce):
    """One tax line (one HST line; GST then QST in Quebec), as on the quote."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="taxes")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("tax"), max_length=3, choices=TaxName.choices)
    rate = models.DecimalField(
        _("rate"), max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES
    )
    amount = _money(_("amount"))

    class Meta:
        ordering = ["invoice_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "name"], name="invoice_tax_one_per_name"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_tax_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of invoice {self.invoice_id}"


class InvoicePdf(WrittenOnce):
    """The PDF of an issued invoice or credit note, as sent, sealed with the documents' key
    (AES-256-GCM, documents.storage.seal) in the database: written in the issuing transaction,
    so a rolled-back issue leaves no file behind, and a statement spanning many cases has one
    home. `sha256` is of the PDF itself."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="pdf")
    sealed = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    filename = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card charge")  # the insurer's corporate card was charged
    EFT = "eft", _("Electronic funds transfer")
    CHEQUE = "cheque", _("Cheque")


class PaymentReceived(WrittenOnce):
    """Money received from an insurer: when, how much, how and its reference (the cheque's
    number, the EFT's trace, the card charge's authorisation; never a card number). Numbered
    in the receipts' series ("RCT-2026-000001"). What it paid is in its allocations and the
    ledger; what is left over is the insurer's credit."""

    insurer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="payments_received",
        limit_choices_to={"kind": "insurer"},
        verbose_name=_("insurer"),
    )
    display_number = models.CharField(_("receipt number"), max_length=32, unique=True)
    received_on = models.DateField(_("received on"))
    amount = _money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    method = models.CharField(_("method"), max_length=8, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("payment received")
        verbose_name_plural = _("payments received")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_received_positive"),
        ]

    def __str__(self) -> str:
        return self.display_number


class PaymentAllocation(WrittenOnce):
    """Part of a payment applied to one invoice (the remittance: which invoices it paid).
    Written with the ledger rows that move the amounts, in the same transaction; balances are
    read from the ledger only."""

    payment = models.ForeignKey(
        PaymentReceived, on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = _money(_("amount"))
    applied_on = models.DateField(
        _("applied on")
    )  # the payment's date, or the day a credit was used
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["payment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of {self.payment_id} to invoice {self.invoice_id}"


class ProviderInvoiceStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # recorded; waits for finance's review
    APPROVED = "approved", _("Approved for payment")  # a payable
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")  # sent back to the provider, with the reason


class ProviderInvoice(models.Model):
    """What a provider bills MedWorks (SOP case 3: "we will be invoiced for the services
    provided"): its own number, dates, lines per case and service, tax and total, the PDF as a
    document version. Recorded by staff or by the clinic in its portal (`billing.payables`);
    finance approves it (a payable: the ledger's cost and payable rows) or rejects it. Its
    amounts are written once; its state moves only through PROVIDER_INVOICE_WORKFLOW."""

    provider = models.ForeignKey(
        "network.AffiliatePartner",
        on_delete=models.PROTECT,
        related_name="provider_invoices",
        verbose_name=_("provider"),
    )
    number = models.CharField(_("provider's invoice number"), max_length=64)
    # The number as compared for duplicates: case-folded, without spaces.
    number_key = models.CharField(max_length=64, editable=False)
    invoice_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"))
    subtotal = _money(_("subtotal"))
    tax_total = _money(_("tax"))
    total = _money(_("total"))
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ProviderInvoiceStatus.choices,
        default=ProviderInvoiceStatus.RECEIVED,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    document_version = models.ForeignKey(
        "documents.DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("PDF"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_party = models.CharField(_("recorded by"), max_length=16)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-invoice_date", "-id"]
        constraints = [
            # A number the provider used twice is refused, unless the first was rejected.
            models.UniqueConstraint(
                fields=["provider", "number_key"],
                condition=~Q(status="rejected"),
                name="provider_invoice_number_once",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax_total__gte=0) & Q(total__gt=0),
                name="provider_invoice_amounts",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="provider_invoice_due")]

    def __str__(self) -> str:
        return f"Provider invoice {self.number} ({self.pk})"


class ProviderInvoiceLine(WrittenOnce):
    """One line of a provider's invoice: a case, the service, the amount before tax."""

    invoice = models.ForeignKey(ProviderInvoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    case = models.ForeignKey(
        "bookings.BookingRequest",
        on_delete=models.PROTECT,
        related_name="provider_invoice_lines",
        verbose_name=_("case"),
    )
    service = models.ForeignKey(
        "network.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service"),
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    amount = _money(_("amount before tax"))

    class Meta:
        ordering = ["invoice_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="provider_line_positive"),
        ]

    def __str__(self) -> str:
        return f"Line {self.position} of {self.invoice_id}"


class ProviderPaymentMethod(models.TextChoices):
    EFT = "eft", _("Electronic funds transfer")
    CHEQUE = "cheque", _("Cheque")
    CARD = "card", _("MedWorks corporate card")


class ProviderPayment(WrittenOnce):
    """A payment MedWorks made against a provider's approved invoice, full or partial."""

    invoice = models.ForeignKey(ProviderInvoice, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = _money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    method = models.CharField(_("method"), max_length=8, choices=ProviderPaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="provider_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.amount} on provider invoice {self.invoice_id}"


class LedgerAccount(models.TextChoices):
    """The roles of the accounts the ledger posts to; their codes are finance's settings
    (MEDWORKS_LEDGER_ACCOUNTS) and each row keeps the code it was posted to."""

    CASH = "cash", _("Bank")  # money received (card settlements, EFT, cheques)
    RECEIVABLE = "receivable", _("Accounts receivable")  # what insurers owe
    PAYABLE = "payable", _("Accounts payable")  # what MedWorks owes providers
    GST_HST_PAYABLE = "gst_hst_payable", _("GST/HST payable")
    QST_PAYABLE = "qst_payable", _("QST payable")
    PST_PAYABLE = "pst_payable", _("PST payable")
    REVENUE = "revenue", _("Revenue from services")
    COST_OF_SERVICES = "cost_of_services", _("Cost of services")  # providers' invoices
    # The sales tax providers charge MedWorks (input tax credits, claimed back).
    TAX_RECOVERABLE = "tax_recoverable", _("Sales tax recoverable")


# Which account a tax line is posted to.
TAX_ACCOUNT = {
    TaxName.GST: LedgerAccount.GST_HST_PAYABLE,
    TaxName.HST: LedgerAccount.GST_HST_PAYABLE,
    TaxName.QST: LedgerAccount.QST_PAYABLE,
    TaxName.PST: LedgerAccount.PST_PAYABLE,
}


class JournalKind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    CREDIT_APPLIED = "credit_applied", _("Insurer's credit applied")
    PROVIDER_INVOICE = "provider_invoice", _("Provider's invoice approved")
    PROVIDER_PAYMENT = "provider_payment", _("Payment to a provider")
    PROVIDER_PREPAYMENT = "provider_prepayment", _("Pre-payment to a provider")


class Journal(WrittenOnce):
    """One money movement: its date, what it was, its reference (the invoice's, credit note's
    or receipt's number), who posted it; its rows balance (`billing.ledger.ledger_post`)."""

    kind = models.CharField(_("kind"), max_length=24, choices=JournalKind.choices)
    date = models.DateField(_("date"), db_index=True)  # the accounting date
    reference = models.CharField(_("reference"), max_length=32)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    insurer = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="journals"
    )
    payment = models.ForeignKey(
        PaymentReceived, null=True, blank=True, on_delete=models.PROTECT, related_name="journals"
    )
    provider_invoice = models.ForeignKey(
        ProviderInvoice, null=True, blank=True, on_delete=models.PROTECT, related_name="journals"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(max_length=16, blank=True)
    actor_detail = models.CharField(max_length=64, blank=True)
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"Journal {self.pk} {self.kind} {self.reference}"


class LedgerEntry(WrittenOnce):
    """One side of a journal: an account debited or credited. Append-only: never updated or
    deleted; a mistake is reversed by another journal (a credit note)."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    position = models.PositiveSmallIntegerField(default=0)
    account = models.CharField(_("account"), max_length=24, choices=LedgerAccount.choices)
    account_code = models.CharField(_("account code"), max_length=16)  # as posted
    debit = _money(_("debit"), default=Decimal("0.00"))
    credit = _money(_("credit"), default=Decimal("0.00"))
    insurer = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The invoice whose balance the row is part of (a credit note's rows name the invoice it
    # reverses); on the receivable account, None is the insurer's unapplied credit.
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        PaymentReceived,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    case = models.ForeignKey(
        "bookings.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    tax_name = models.CharField(_("tax"), max_length=3, choices=TaxName.choices, blank=True)
    # On the payable account: the provider's invoice whose balance the row is part of.
    provider = models.ForeignKey(
        "network.AffiliatePartner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider_invoice = models.ForeignKey(
        ProviderInvoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )

    class Meta:
        ordering = ["journal_id", "position", "id"]
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="ledger_entry_one_side",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "insurer"], name="ledger_account_insurer"),
            models.Index(fields=["account", "invoice"], name="ledger_account_invoice"),
            models.Index(
                fields=["account", "provider_invoice"], name="ledger_account_provider_inv"
            ),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_code} {side} (journal {self.journal_id})"
