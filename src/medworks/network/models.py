"""The national network: affiliate partners, their locations, and the services they offer.

A partner (a network with a billing agreement, or an individual clinic) has locations; each
location offers catalogue services at a clinic price. Non-affiliate providers found by
management during an escalation live here too, marked as such, so they can be reused.
"""

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from medworks.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class PartnerKind(models.TextChoices):
    NETWORK = "network", _("Network")  # a chain/network with a billing agreement (SOP case 3)
    INDIVIDUAL = "individual", _("Individual clinic")  # a single clinic (SOP case 4)


class BillingArrangement(models.TextChoices):
    DIRECT_BILLING = "direct_billing", _("Direct billing")  # the provider invoices MedWorks
    CREDIT_CARD = "credit_card", _("Pre-payment by credit card")
    EFT = "eft", _("Pre-payment by EFT")
    INSURER_CARD = "insurer_card", _("The insurer's corporate card")


class Province(models.TextChoices):
    AB = "AB", _("Alberta")
    BC = "BC", _("British Columbia")
    MB = "MB", _("Manitoba")
    NB = "NB", _("New Brunswick")
    NL = "NL", _("Newfoundland and Labrador")
    NS = "NS", _("Nova Scotia")
    NT = "NT", _("Northwest Territories")
    NU = "NU", _("Nunavut")
    ON = "ON", _("Ontario")
    PE = "PE", _("Prince Edward Island")
    QC = "QC", _("Quebec")
    SK = "SK", _("Saskatchewan")
    YT = "YT", _("Yukon")


class GeoPrecision(models.TextChoices):
    POSTAL_CODE = "postal_code", _("Postal code")  # the full code's own coordinates
    FSA = "fsa", _("Area (first three characters)")  # the forward sortation area's centre
    MANUAL = "manual", _("Entered by hand")
    NONE = "none", _("Not located")


class AffiliatePartner(models.Model):
    name = models.CharField(max_length=200)
    # Case-, accent- and space-insensitive key the importer matches on.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    kind = models.CharField(
        max_length=16, choices=PartnerKind.choices, default=PartnerKind.INDIVIDUAL
    )
    is_affiliate = models.BooleanField(
        default=True, help_text=_("Unticked for a provider found during an escalation.")
    )
    billing_arrangements = models.JSONField(
        default=list, blank=True, help_text=_("BillingArrangement values the partner accepts.")
    )
    accepts_prepayment = models.BooleanField(default=False)
    # Days the provider gives MedWorks to pay its invoices (a provider invoice's due date).
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    tax_number = models.CharField(_("GST/HST number"), max_length=32, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    organisation = models.OneToOneField(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="affiliate_partner",
        help_text=_("The portal organisation whose clinic users act for this partner."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    partner = models.ForeignKey(
        AffiliatePartner, on_delete=models.PROTECT, related_name="locations"
    )
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, editable=False)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    province = models.CharField(max_length=2, choices=Province.choices)
    postal_code = models.CharField(max_length=7, help_text="A1A 1A1")
    latitude = models.FloatField(null=True, blank=True)  # degrees; geometry, not money
    longitude = models.FloatField(null=True, blank=True)
    geo_precision = models.CharField(
        max_length=16, choices=GeoPrecision.choices, default=GeoPrecision.NONE
    )
    # A coarse grid cell (see network.geo.grid_cell) so matching reads only nearby rows.
    geo_cell = models.IntegerField(null=True, blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    languages = models.CharField(max_length=100, blank=True, help_text=_("e.g. English, French"))
    # None: not known. Shown beside the clinic when choosing one for a patient who needs it.
    wheelchair_accessible = models.BooleanField(_("wheelchair accessible"), null=True, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "name_key", "postal_code"], name="location_unique_per_partner"
            )
        ]
        # Matching reads boxes of latitude/longitude inside grid cells: with the box in the
        # index, a dense city cell costs only the rows inside the box (network/matching.py).
        indexes = [
            models.Index(fields=["geo_cell", "latitude", "longitude"], name="location_geo_box"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.postal_code})"


class ServiceCategory(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment")
    IMAGING = "imaging", _("Imaging")
    LABORATORY = "laboratory", _("Laboratory")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    CONSULTATION = "consultation", _("Consultation")
    OTHER = "other", _("Other")


class Service(models.Model):
    """The service catalogue, seeded with common services; the importer adds unknown names."""

    code = models.CharField(max_length=32, unique=True)
    name_en = models.CharField(max_length=200)
    name_fr = models.CharField(max_length=200, blank=True)
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    category = models.CharField(
        max_length=20, choices=ServiceCategory.choices, default=ServiceCategory.OTHER
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language (French when the catalogue has it)."""
        if self.name_fr and (translation.get_language() or "").startswith("fr"):
            return self.name_fr
        return self.name_en


class Offering(models.Model):
    """A location offers a service at a clinic price (what MedWorks pays, CAD)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="offerings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="offerings")
    clinic_price = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, blank=True
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "service"], name="offering_unique")
        ]
        indexes = [models.Index(fields=["service", "location"])]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"


class ColumnMapping(models.Model):
    """A spreadsheet header a user said is a column of the layout, used by the next imports.

    Written by network.importing when an import with columns given by the user is applied;
    read after the synonyms and before meaning-guesses (network/spreadsheet.py).
    """

    # spreadsheet.header_key() of the header: case, spacing, accents and punctuation ignored.
    header_key = models.CharField(max_length=200, unique=True)
    header = models.CharField(max_length=200)  # as the file last wrote it, for people
    field_name = models.CharField(max_length=32)  # a field of spreadsheet.COLUMNS
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who, when not a user: the actor's kind and detail ("system: medworks import-partners").
    set_by_detail = models.CharField(max_length=64, blank=True)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["header_key"]

    def __str__(self) -> str:
        return f"{self.header} -> {self.field_name}"
