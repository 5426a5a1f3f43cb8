"""Pre-paying providers (SOP case 4): the payment request and its two approvals, the payment
made, the insurer's card in the vault, the charges to it, providers' bank accounts and the EFT
files that pay them.

Records with states move only through their workflows (`payments/workflow.py`); amounts are
written once; card numbers, security codes and bank account numbers are held only as vault
ciphertext (`vault_crypto.seal`, bound to their row and field), everything else shows the
brand and the last four digits.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medworks.core.money import CURRENCY, money_field

_money = money_field


def _user(**kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **kwargs,
    )


# --- The payment request (SOP case 4 steps 1-3) --------------------------------------------------


class PaymentMethod(models.TextChoices):
    """How MedWorks pays a pre-paid provider."""

    MEDWORKS_CARD = "medworks_card", _("MedWorks corporate card")
    EFT = "eft", _("Electronic funds transfer")
    INSURER_CARD = "insurer_card", _("The insurer's corporate card, given to the clinic")


class PaymentRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    AWAITING_REVIEW = "awaiting_review", _("Waiting for the Chief of Staff")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for the CEO")
    APPROVED = "approved", _("Approved: to be paid")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# A request in one of these holds its cases: a case is in at most one of them.
LIVE_REQUEST_STATUSES = frozenset(
    {
        PaymentRequestStatus.DRAFT,
        PaymentRequestStatus.AWAITING_REVIEW,
        PaymentRequestStatus.AWAITING_APPROVAL,
        PaymentRequestStatus.APPROVED,
        PaymentRequestStatus.PAID,
    }
)


class PaymentRequest(models.Model):
    """A pre-payment to one provider for one or more cases, in the SOP's table: prepared by
    the booking team, reviewed by the Chief of Staff, approved by the CEO, then paid."""

    provider = models.ForeignKey(
        "network.AffiliatePartner",
        on_delete=models.PROTECT,
        related_name="payment_requests",
        verbose_name=_("provider"),
    )
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PaymentRequestStatus.choices,
        default=PaymentRequestStatus.DRAFT,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    # The SOP table's totals, kept equal to the sums of the lines by the services.
    clinic_cost = _money(_("clinic cost"), default=Decimal("0.00"))
    medworks_cost = _money(_("MedWorks cost"), default=Decimal("0.00"))
    total_to_bill = _money(_("total cost to bill the insurer"), default=Decimal("0.00"))
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY, editable=False)
    # What the approvals were given on (provider, method, cases and amounts): a change makes
    # another fingerprint, and the approvals are reset.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    prepared_by = _user(verbose_name=_("prepared by"))
    prepared_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    reviewed_by = _user(verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    approved_by = _user(verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["-prepared_at", "-id"]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="payreq_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(clinic_cost__gte=0) & Q(medworks_cost__gte=0),
                name="payreq_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"PR-{self.pk:06d}" if self.pk else "PR-new"


class PaymentRequestLine(models.Model):
    """One case of the request, as the SOP's table shows it, its amounts from the case's
    confirmed quote when it was added."""

    request = models.ForeignKey(PaymentRequest, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    case = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="payment_request_lines"
    )
    clinic_cost = _money(_("clinic cost"))
    medworks_cost = _money(_("MedWorks cost"))
    total_to_bill = _money(_("total cost to bill the insurer"))  # clinic + MedWorks cost
    confirmed_total = _money(_("confirmed by the insurer (taxes included)"))

    class Meta:
        ordering = ["request_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "case"], name="payreq_line_case_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: case {self.case_id}"


class ProviderPrepayment(models.Model):
    """The payment made once the request is approved (SOP case 4 step 3: the call with the
    Chief of Staff and the clinic): who took part, when, how, how much, the clinic's
    confirmation or authorisation number. Written once."""

    request = models.OneToOneField(PaymentRequest, on_delete=models.PROTECT, related_name="payment")
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = _money(_("amount"))
    participants = models.CharField(_("who took part"), max_length=300)
    confirmation = models.CharField(_("clinic's confirmation or authorisation"), max_length=100)
    recorded_by = _user()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="prepayment_positive"),
        ]

    def __str__(self) -> str:
        return f"Payment of {self.request_id}"


# --- The insurer's card (SOP case 4 steps 4-5) ---------------------------------------------------


class CardEntry(models.TextChoices):
    PORTAL = "portal", _("Entered by the insurer in its portal")
    PHONE = "phone", _("Entered by staff during a phone call")


class StoredCard(models.Model):
    """The insurer's corporate card for a case, in the vault. The number and the security code
    are ciphertext only, each bound to this row and field; the security code is destroyed
    when the payment is recorded or after MEDWORKS_CVC_MAX_HOURS, the number once the payment
    is recorded; brand, last four, expiry and name stay."""

    case = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="stored_cards"
    )
    insurer = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    brand = models.CharField(_("brand"), max_length=20)
    last4 = models.CharField(_("last four digits"), max_length=4)
    expiry_month = models.PositiveSmallIntegerField(_("expiry month"))
    expiry_year = models.PositiveSmallIntegerField(_("expiry year"))
    name_on_card = models.CharField(_("name on card"), max_length=26)
    number_sealed = models.BinaryField(null=True, editable=False)
    security_code_sealed = models.BinaryField(null=True, editable=False)
    security_code_expires_at = models.DateTimeField(null=True, blank=True)
    number_destroyed_at = models.DateTimeField(null=True, blank=True)
    security_code_destroyed_at = models.DateTimeField(null=True, blank=True)
    entered_via = models.CharField(_("entered"), max_length=8, choices=CardEntry.choices)
    entered_by = _user()
    entered_at = models.DateTimeField(default=timezone.now)
    # A newer card for the case replaces this one (kept masked, its secrets destroyed).
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        indexes = [
            models.Index(fields=["security_code_expires_at"], name="card_cvc_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ending in {self.last4}"

    @property
    def masked(self) -> str:
        return _("%(brand)s ending in %(last4)s") % {"brand": self.brand, "last4": self.last4}


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Sent to the processor")
    SUCCEEDED = "succeeded", _("Charged")
    DECLINED = "declined", _("Declined")


class CardCharge(models.Model):
    """One charge of the insurer's card for a case (the services and the markup), through the
    payment gateway. The idempotency key is unique: a charge retried after a time-out or a
    double click is the same charge, never a second one."""

    case = models.ForeignKey(
        "bookings.BookingRequest", on_delete=models.PROTECT, related_name="card_charges"
    )
    card = models.ForeignKey(StoredCard, on_delete=models.PROTECT, related_name="charges")
    amount = _money(_("amount"))
    currency = models.CharField(max_length=3, default=CURRENCY, editable=False)
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    gateway = models.CharField(max_length=32)
    gateway_reference = models.CharField(_("authorisation"), max_length=64, blank=True)
    decline_reason = models.CharField(_("why it was declined"), max_length=200, blank=True)
    requested_by = _user()
    requested_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="card_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"Charge {self.pk} ({self.status})"


# --- EFT: providers' bank accounts and CPA-005 files ---------------------------------------------


class ProviderBankAccount(models.Model):
    """Where a provider is paid by EFT. Institution, transit and account are vault
    ciphertext, shown masked (the last digits of the account)."""

    provider = models.OneToOneField(
        "network.AffiliatePartner", on_delete=models.PROTECT, related_name="bank_account"
    )
    account_holder = models.CharField(_("account holder"), max_length=30)
    details_sealed = models.BinaryField(editable=False)  # "institution:transit:account"
    account_last_digits = models.CharField(_("account ending"), max_length=4)
    updated_by = _user()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Bank account of {self.provider_id} ending {self.account_last_digits}"


class EftFile(models.Model):
    """A CPA Standard 005 file of approved EFT payments to providers. Its file creation number
    is never reused (unique, taken in order)."""

    file_creation_number = models.PositiveIntegerField(unique=True)
    created_on = models.DateField()
    credit_count = models.PositiveIntegerField()
    credit_total = _money(_("total"))
    content_sealed = models.BinaryField(editable=False)  # the file: it holds account numbers
    created_by = _user()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-file_creation_number"]

    def __str__(self) -> str:
        return f"EFT file {self.file_creation_number:04d}"


class EftCredit(models.Model):
    """One payment in an EFT file: an approved EFT payment request."""

    file = models.ForeignKey(EftFile, on_delete=models.PROTECT, related_name="credits")
    request = models.OneToOneField(
        PaymentRequest, on_delete=models.PROTECT, related_name="eft_credit"
    )
    amount = _money(_("amount"))
    cross_reference = models.CharField(max_length=19)

    def __str__(self) -> str:
        return f"{self.amount} in {self.file_id}"
