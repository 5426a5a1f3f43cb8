"""Pricing data: the dated sales-tax table and each insurer's pricing settings.

Rows here change only through `billing.services` (finance role, audited); quotes read them
through `billing.selectors` and compute with `billing.pricing`. Quotes as records with states
come later, on the state machine of `core`.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from medworks.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
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
