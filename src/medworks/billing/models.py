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

from medworks.core.money import CURRENCY, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
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


class InsurerPricing(models.Model):
    """How one insurer is priced and taxed. An insurer without a row gets the defaults."""

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
    price = models.DecimalField(
        _("price before tax"), max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES
    )
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


def _money(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        **kwargs,
    )


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
