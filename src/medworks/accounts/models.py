"""Organisations, users and their roles.

Every user belongs to exactly one organisation. MedWorks staff hold one or more of the SOP's
roles; insurer and clinic users hold the portal role of their organisation's kind.
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", "MedWorks"  # the company running the desk
    INSURER = "insurer", "Insurance partner"  # insurers and assistance companies, who pay
    AFFILIATE = "affiliate", "Affiliate partner"  # clinics and networks who provide the service


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    is_active = models.BooleanField(default=True)
    # The language MedWorks writes to it in (an insurer's contacts, a clinic's inbox); a person
    # of the organisation can override it with their own (User.preferred_language).
    correspondence_language = models.CharField(
        max_length=2, choices=[("en", "English"), ("fr", "Français")], default="en"
    )
    # An insurer's designated service area (SOP: "within the defined proximity that is requested
    # by the Affiliate Partner"): no affiliate this near escalates the case. Blank: the setting
    # MEDWORKS_SERVICE_AREA_MINUTES (60).
    service_area_minutes = models.PositiveSmallIntegerField(
        _("service area (minutes by road)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
    )
    # Every user of the organisation must sign in with a second factor (accounts/two_factor.py);
    # MedWorks' own staff must anyway while MEDWORKS_STAFF_REQUIRE_2FA is on.
    require_two_factor = models.BooleanField(
        _("requires two-step sign-in"),
        default=False,
        help_text=_(
            "Every user of this organisation must sign in with a code from an authenticator app."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleCode(models.TextChoices):
    BOOKING_AGENT = "booking_agent", "Booking agent (Core Booking Team)"
    BOOKING_COORDINATOR = "booking_coordinator", "Corporate booking coordinator"
    CLINIC_MANAGER = "clinic_manager", "Clinic manager"
    SALES_MANAGER = "sales_manager", "Sales manager"
    DIRECTOR_OF_OPERATIONS = "director_of_operations", "Director of operations"
    SENIOR_MANAGER = "senior_manager", "Senior manager"
    CHIEF_OF_STAFF = "chief_of_staff", "Chief of staff"
    CEO = "ceo", "CEO"
    FINANCE = "finance", "Finance"
    INSURER_USER = "insurer_user", "Insurance partner user"
    CLINIC_USER = "clinic_user", "Clinic user"


# Which organisation kind may hold a role: a clinic user cannot be made a CEO.
ROLE_ORGANISATION_KIND = {
    RoleCode.INSURER_USER: OrganisationKind.INSURER,
    RoleCode.CLINIC_USER: OrganisationKind.AFFILIATE,
}
STAFF_ROLES = frozenset(r for r in RoleCode if r not in ROLE_ORGANISATION_KIND)


class Role(models.Model):
    """Seeded by a migration, one row per RoleCode; rows so an admin can see who holds what."""

    code = models.CharField(max_length=32, choices=RoleCode.choices, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    # The person's own choice of language for pages and emails; blank: their browser's.
    preferred_language = models.CharField(
        max_length=2, choices=[("en", "English"), ("fr", "Français")], default="", blank=True
    )

    objects = UserManager()

    @property
    def role_codes(self) -> frozenset[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            codes = self.roles.values_list("code", flat=True) if self.pk else []
            cached = frozenset(codes)
            self._role_codes = cached
        return cached

    @property
    def organisation_kind(self) -> str | None:
        return self.organisation.kind if self.organisation_id else None


class ApiKey(models.Model):
    """An insurer system's key to the JSON API. Only a hash of the secret is kept.

    The secret is random (256 bits), so a fast hash is enough: there is nothing to guess
    a dictionary from, and a lookup by hash costs one indexed read per request.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'Claims system'.")
    prefix = models.CharField(max_length=8, db_index=True)  # shown to tell keys apart
    secret_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole key
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UserSession(AbstractBaseSession):
    """A browser session: Django's database session, plus the user signed in with it.

    Written by the session engine (`accounts.sessions.SessionStore`) each time the session is
    saved, so ending every session of a user or of an organisation is one indexed delete
    (`accounts.services.user_set_active`, `organisation_set_active`). None: nobody signed in.
    """

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
