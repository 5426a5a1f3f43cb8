"""Who may do what: the one place permissions are decided.

A capability is a verb of the product; each is granted to roles here and nowhere else. Views,
API handlers and commands ask `user_can(user, Capability.X)`; templates read the same answers.
"""

from __future__ import annotations

from enum import StrEnum

from medworks.core.actor import ActorKind

from .models import OrganisationKind, RoleCode


class Capability(StrEnum):
    BACK_OFFICE = "back_office"  # enter the staff back office
    DIRECTORY_VIEW = "directory_view"  # read partners, locations, prices
    DIRECTORY_EDIT = "directory_edit"  # change partners, locations, prices
    DIRECTORY_IMPORT = "directory_import"  # import / export the national spreadsheet
    MATCH_CLINICS = "match_clinics"  # find clinics near a patient
    BOOKING_VIEW = "booking_view"  # read every booking request (staff)
    BOOKING_WORK = "booking_work"  # move requests through the workflow, enter email requests
    API_KEYS_MANAGE = "api_keys_manage"  # create and revoke insurers' API keys
    BOOKING_SUBMIT = "booking_submit"  # an insurer submits requests and approves dates
    CLINIC_AVAILABILITY = "clinic_availability"  # a clinic enters dates for its own cases
    INSURER_PORTAL = "insurer_portal"
    CLINIC_PORTAL = "clinic_portal"
    TAX_SETTINGS_EDIT = "tax_settings_edit"  # change the tax rate table and insurers' pricing
    INVOICING = "invoicing"  # draft and issue invoices and credit notes, record payments received
    ESCALATION_HANDLE = "escalation_handle"  # own escalated cases, record the provider found
    TWO_FACTOR_RESET = "two_factor_reset"  # remove a person's second factor (a lost phone)
    # Pre-paying providers (SOP case 4): the booking team prepares a payment request and
    # records the payment made; the Chief of Staff reviews it; the CEO approves it.
    PAYMENT_VIEW = "payment_view"  # read payment requests (the SOP's table names patients)
    PAYMENT_PREPARE = "payment_prepare"
    PAYMENT_REVIEW = "payment_review"
    PAYMENT_APPROVE = "payment_approve"
    # The insurer's card: staff enter it during a phone call; a few see it whole, with a reason.
    CARD_ENTER = "card_enter"
    CARD_REVEAL = "card_reveal"
    # Reconciliation (SOP case 4 step 6): the corporate booking coordinator checks every order;
    # finance closes a month and reopens it for a correction; management reads the dashboard.
    RECONCILIATION_VIEW = "reconciliation_view"  # the SOP table and its exports name patients
    RECONCILE = "reconcile"
    MONTH_CLOSE = "month_close"
    DASHBOARD_VIEW = "dashboard_view"  # figures only: no patient is named on the dashboard
    # Privacy (PIPEDA/PHIPA): the breach register and the access trail of a patient or a user.
    PRIVACY = "privacy"


_R = RoleCode
_ALL_STAFF = {
    _R.BOOKING_AGENT,
    _R.BOOKING_COORDINATOR,
    _R.CLINIC_MANAGER,
    _R.SALES_MANAGER,
    _R.DIRECTOR_OF_OPERATIONS,
    _R.SENIOR_MANAGER,
    _R.CHIEF_OF_STAFF,
    _R.CEO,
    _R.FINANCE,
}
# Management finds and records providers (SOP case 2), so it edits the directory too.
_DIRECTORY_EDITORS = {
    _R.BOOKING_COORDINATOR,
    _R.CLINIC_MANAGER,
    _R.SALES_MANAGER,
    _R.DIRECTOR_OF_OPERATIONS,
    _R.SENIOR_MANAGER,
}

# The Core Booking Team and the people it escalates to work cases; finance and the approvers
# (chief of staff, CEO) read them.
_BOOKING_TEAM = {_R.BOOKING_AGENT} | _DIRECTORY_EDITORS
# The SOP's management team, who take escalated cases and find a provider.
_MANAGEMENT = {
    _R.CLINIC_MANAGER,
    _R.SALES_MANAGER,
    _R.DIRECTOR_OF_OPERATIONS,
    _R.SENIOR_MANAGER,
}

GRANTS: dict[Capability, frozenset[str]] = {
    Capability.BACK_OFFICE: frozenset(_ALL_STAFF),
    Capability.DIRECTORY_VIEW: frozenset(_ALL_STAFF),
    Capability.DIRECTORY_EDIT: frozenset(_DIRECTORY_EDITORS),
    Capability.DIRECTORY_IMPORT: frozenset(_DIRECTORY_EDITORS),
    Capability.MATCH_CLINICS: frozenset(_ALL_STAFF - {_R.FINANCE}),
    Capability.BOOKING_VIEW: frozenset(_ALL_STAFF),
    Capability.BOOKING_WORK: frozenset(_BOOKING_TEAM),
    Capability.API_KEYS_MANAGE: frozenset(_DIRECTORY_EDITORS),
    Capability.BOOKING_SUBMIT: frozenset({_R.INSURER_USER}),
    Capability.CLINIC_AVAILABILITY: frozenset({_R.CLINIC_USER}),
    Capability.INSURER_PORTAL: frozenset({_R.INSURER_USER}),
    Capability.CLINIC_PORTAL: frozenset({_R.CLINIC_USER}),
    Capability.TAX_SETTINGS_EDIT: frozenset({_R.FINANCE}),
    # Finance bills the insurers (SOP case 3) and records what they pay.
    Capability.INVOICING: frozenset({_R.FINANCE}),
    Capability.ESCALATION_HANDLE: frozenset(_MANAGEMENT),
    # Senior people only: a reset lets the next sign-in with the password alone enrol a new app.
    Capability.TWO_FACTOR_RESET: frozenset({_R.SENIOR_MANAGER, _R.DIRECTOR_OF_OPERATIONS}),
    Capability.PAYMENT_VIEW: frozenset(_BOOKING_TEAM | {_R.CHIEF_OF_STAFF, _R.CEO, _R.FINANCE}),
    Capability.PAYMENT_PREPARE: frozenset(_BOOKING_TEAM),
    Capability.PAYMENT_REVIEW: frozenset({_R.CHIEF_OF_STAFF}),
    Capability.PAYMENT_APPROVE: frozenset({_R.CEO}),
    Capability.CARD_ENTER: frozenset(_BOOKING_TEAM),
    # The full number is for the call with the clinic: the Chief of Staff, who takes part in
    # it, and the corporate booking coordinator (RULES.md: listed roles, each reveal logged).
    Capability.CARD_REVEAL: frozenset({_R.CHIEF_OF_STAFF, _R.BOOKING_COORDINATOR}),
    Capability.RECONCILIATION_VIEW: frozenset(
        {_R.BOOKING_COORDINATOR, _R.FINANCE, _R.CHIEF_OF_STAFF, _R.CEO}
    ),
    Capability.RECONCILE: frozenset({_R.BOOKING_COORDINATOR}),
    Capability.MONTH_CLOSE: frozenset({_R.FINANCE}),
    Capability.DASHBOARD_VIEW: frozenset(_MANAGEMENT | {_R.CHIEF_OF_STAFF, _R.CEO, _R.FINANCE}),
    # The people accountable for privacy: the Chief of Staff and the Director of Operations.
    Capability.PRIVACY: frozenset({_R.CHIEF_OF_STAFF, _R.DIRECTOR_OF_OPERATIONS}),
}

# A role only counts inside the organisation kind it belongs to.
_ORG_KIND_OF_CAPABILITY = {
    Capability.BOOKING_SUBMIT: OrganisationKind.INSURER,
    Capability.CLINIC_AVAILABILITY: OrganisationKind.AFFILIATE,
    Capability.INSURER_PORTAL: OrganisationKind.INSURER,
    Capability.CLINIC_PORTAL: OrganisationKind.AFFILIATE,
}


def user_can(user, capability: Capability) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.organisation_id is None:
        return False
    if not user.organisation.is_active:  # a suspended organisation's people can do nothing
        return False
    kind = user.organisation_kind
    if kind != _ORG_KIND_OF_CAPABILITY.get(capability, OrganisationKind.OPERATOR):
        return False
    return bool(user.role_codes & GRANTS[capability])


def capabilities_of(user) -> frozenset[Capability]:
    return frozenset(c for c in Capability if user_can(user, c))


def actor_can(actor, capability: Capability) -> bool:
    """`user_can` for a core.actor.Actor: a signed link or the system holds no capability."""
    return user_can(actor.principal, capability)


def capability_guard(capability: Capability, refusal):
    """A workflow guard (core.workflow): the actor holds `capability`, else `refusal`; the
    system (a job) passes."""

    def guard(record, actor) -> str | None:
        if actor.kind == ActorKind.SYSTEM:
            return None
        return None if actor_can(actor, capability) else str(refusal)

    guard.__name__ = f"needs_{capability.value}"
    return guard
