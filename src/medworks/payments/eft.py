"""Paying providers by Electronic Funds Transfer (SOP case 4 step 5): where each provider is
paid, and the CPA-005 files that pay the approved EFT requests. One transaction per use case.

- `bank_account_set(provider=, account_holder=, institution=, transit=, account=, actor=)`:
  finance (INVOICING) records or replaces where a provider is paid. Institution 3 digits,
  transit 5, account 1-12 (spaces and dashes typed between digits are dropped); refused per
  field otherwise. Institution, transit and account are sealed together as
  "institution:transit:account" (`vault_crypto.seal`, context "bank:<provider id>:details",
  which `vault.vault_reseal` re-seals); only the holder and the last digits stay readable.
  The audit row holds the masked value only.

  Why finance and not the directory editors: changing a payee's bank account is how payment
  fraud redirects money (the "we changed banks" email). The directory editors are five roles
  who change partners every day; finance is one small team, already the one that sends the
  files and that checks a change with the provider by a call to a number already on file.
  The approvals (Chief of Staff, CEO) are on the request, not on the account: a change of
  account after an approval is in the audit trail and shown on the EFT page.
- `bank_account_masked(provider)`: "Institution 001, transit 12345, account ••••6789", or
  None. Institution and transit identify a branch, not a person: they are not secret in
  Canada (they are printed on every cheque); the account number stays masked everywhere.
- `eft_file_create(actor=, created_on=, requests=)`: finance makes one CPA-005 file of the
  approved EFT requests not yet in a file (or of those given). Refused, naming each request
  or provider, nothing written: a provider without a bank account, a request not approved or
  not paid by EFT or already in a file, one whose confirmed amounts changed since approval
  (`request_drift`, as for a payment made by card), nothing to pay, EFT not configured. One
  credit per request (the request's clinic cost, the provider's name, the request's number
  as cross reference, funds available on `created_on`); each request goes to paid through
  the workflow's `pay` step with a ProviderPrepayment and the same ledger posting as a
  payment made on the call (`requests.post_prepayment`: Dr cost of services / Cr bank).
- `eft_file_text(eft_file=, actor=)`: the file for the bank (finance), each download audited.
- `eft_files_reseal()`: the files sealed again under the vault's current key.

The file creation number (1-9999) is the next after the highest ever used and never reused:
EftFile rows are never deleted, the number is unique, and it is taken under a lock on the
highest row. Two files made at once on PostgreSQL: the second waits for that lock, finds the
same highest row, and its insert meets the unique constraint once the first commits; it then
takes the next number (a savepoint, a few attempts) or is refused cleanly. The first file of
all has no row to lock: the unique constraint alone settles that race, the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied

from .cpa005 import Cpa005Error, Credit, Originator, cpa005_file
from .models import (
    EftCredit,
    EftFile,
    PaymentMethod,
    PaymentRequest,
    PaymentRequestStatus,
    ProviderBankAccount,
    ProviderPrepayment,
)
from .requests import post_prepayment, request_drift
from .vault_crypto import reseal, seal, unseal
from .workflow import PAYMENT_REQUEST_WORKFLOW

S = PaymentRequestStatus
ZERO = Decimal("0.00")
MAX_FILE_CREATION_NUMBER = 9999
NUMBER_ATTEMPTS = 5
MAX_DAYS_AHEAD = 30  # a file may make funds available up to this many days ahead
MAX_CREDITS_PER_FILE = 500
MASK = "••••"

_INSTITUTION = re.compile(r"[0-9]{3}")
_TRANSIT = re.compile(r"[0-9]{5}")
_ACCOUNT = re.compile(r"[0-9]{1,12}")
_TYPED_SEPARATORS = re.compile(r"[\s\-.]")


def _require_finance(actor: Actor, message: str) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, Capability.INVOICING):
        raise PermissionDenied("eft_forbidden", message)


def _bank_context(provider_id: int) -> str:
    return f"bank:{provider_id}:details"


def _file_context(file_id: int) -> str:
    return f"eft:{file_id}:content"


# --- Providers' bank accounts -------------------------------------------------------------------


def _digits(value) -> str:
    """What was typed, as ASCII digits: full-width digits made plain, spaces, dashes and dots
    between groups dropped. Anything else is left for the check to refuse."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return _TYPED_SEPARATORS.sub("", text)


def _last_digits(account: str) -> str:
    """At most the last four digits, and never more than half the number: a short account
    number is not shown whole."""
    shown = min(4, len(account) // 2)
    return account[-shown:] if shown else ""


def _masked(institution: str, transit: str, last_digits: str) -> str:
    return _("Institution %(institution)s, transit %(transit)s, account %(account)s") % {
        "institution": institution,
        "transit": transit,
        "account": MASK + last_digits,
    }


def _details(account: ProviderBankAccount) -> tuple[str, str, str]:
    """(institution, transit, account) of a bank account: inside this module only."""
    institution, transit, number = unseal(
        account.details_sealed, context=_bank_context(account.provider_id)
    ).split(":")
    return institution, transit, number


def bank_account_set(
    *, provider, account_holder: str, institution: str, transit: str, account: str, actor: Actor
) -> ProviderBankAccount:
    """Record where `provider` is paid by EFT (replacing what was there)."""
    _require_finance(actor, _("Only finance records a provider's bank account."))
    account_holder = " ".join((account_holder or "").split())
    refuse_card_numbers({"account_holder": account_holder})
    institution, transit, account = _digits(institution), _digits(transit), _digits(account)
    errors: dict[str, list[str]] = {}
    if not account_holder:
        errors["account_holder"] = [_("Enter the name the account is held in.")]
    elif len(account_holder) > 30:
        errors["account_holder"] = [_("At most 30 characters, as the bank holds it.")]
    if not _INSTITUTION.fullmatch(institution):
        errors["institution"] = [_("The institution number is 3 digits, such as 003.")]
    if not _TRANSIT.fullmatch(transit):
        errors["transit"] = [_("The transit (branch) number is 5 digits, such as 00012.")]
    if not _ACCOUNT.fullmatch(account):
        errors["account"] = [_("The account number is 1 to 12 digits.")]
    if errors:
        raise DomainError(
            "bank_account_invalid", _("Check the bank account's details."), fields=errors
        )
    last = _last_digits(account)
    masked = _masked(institution, transit, last)
    with transaction.atomic():
        before = ProviderBankAccount.objects.select_for_update().filter(provider=provider).first()
        previous = bank_account_masked(provider) if before is not None else ""
        saved, created = ProviderBankAccount.objects.update_or_create(
            provider=provider,
            defaults={
                "account_holder": account_holder,
                "details_sealed": seal(
                    f"{institution}:{transit}:{account}", context=_bank_context(provider.pk)
                ),
                "account_last_digits": last,
                "updated_by": actor.user,
                "updated_at": timezone.now(),
            },
        )
        audit_record(
            actor=actor,
            action="bank_account.recorded" if created else "bank_account.changed",
            obj=saved,
            summary=f"{provider.name}: {masked}",
            payload={
                "provider": provider.pk,
                "account_holder": account_holder,
                "account": masked,
                "before": previous,
            },
        )
    return saved


def bank_account_masked(provider) -> str | None:
    """Where the provider is paid, its account number masked; None without a bank account."""
    account = ProviderBankAccount.objects.filter(provider=provider).first()
    if account is None:
        return None
    institution, transit, _number = _details(account)
    return _masked(institution, transit, account.account_last_digits)


# --- The originator (MedWorks as the bank knows it) --------------------------------------------

_ORIGINATOR_SETTINGS = (
    ("originator_id", "MEDWORKS_EFT_ORIGINATOR_ID", r"[A-Z0-9]{1,10}"),
    ("short_name", "MEDWORKS_EFT_SHORT_NAME", r".*[A-Za-z0-9].*"),
    ("long_name", "MEDWORKS_EFT_LONG_NAME", r".*[A-Za-z0-9].*"),
    ("destination_data_centre", "MEDWORKS_EFT_DESTINATION_DATA_CENTRE", r"[0-9]{5}"),
    ("return_institution", "MEDWORKS_EFT_RETURN_INSTITUTION", r"[0-9]{3}"),
    ("return_transit", "MEDWORKS_EFT_RETURN_TRANSIT", r"[0-9]{5}"),
    ("return_account", "MEDWORKS_EFT_RETURN_ACCOUNT", r"[0-9]{1,12}"),
)


def eft_originator() -> Originator:
    """The originator from the settings, or DomainError naming what is missing."""
    if not getattr(settings, "MEDWORKS_EFT_ORIGINATOR_ID", ""):
        raise DomainError(
            "eft_not_configured",
            _(
                "EFT export is not set up: MEDWORKS_EFT_ORIGINATOR_ID (the originator ID the "
                "bank gave MedWorks) is not set."
            ),
        )
    values = {}
    for field, name, pattern in _ORIGINATOR_SETTINGS:
        value = str(getattr(settings, name, "") or "").strip()
        if not re.fullmatch(pattern, value):
            raise DomainError(
                "eft_not_configured",
                _("EFT export is not set up: %(setting)s is missing or malformed.")
                % {"setting": name},
            )
        values[field] = value
    return Originator(**values)


# --- EFT files ----------------------------------------------------------------------------------


def _locked_requests(requests: Sequence[PaymentRequest] | None) -> list[PaymentRequest]:
    queryset = PaymentRequest.objects.select_for_update(of=("self",)).select_related("provider")
    if requests is None:
        queryset = queryset.filter(status=S.APPROVED, method=PaymentMethod.EFT).exclude(
            pk__in=EftCredit.objects.values("request_id")
        )
    else:
        queryset = queryset.filter(pk__in=sorted({r.pk for r in requests}))
    return list(queryset.order_by("pk"))


def _problems(locked: list[PaymentRequest], accounts: dict) -> list[str]:
    in_a_file = dict(
        EftCredit.objects.filter(request__in=locked).values_list(
            "request_id", "file__file_creation_number"
        )
    )
    problems = []
    for request in locked:
        number = request.display_number
        if request.pk in in_a_file:
            problems.append(
                _("%(number)s is already in EFT file %(file)04d.")
                % {"number": number, "file": in_a_file[request.pk]}
            )
        elif request.status != S.APPROVED:
            problems.append(
                _("%(number)s is %(state)s, not approved to be paid.")
                % {"number": number, "state": request.get_status_display().lower()}
            )
        elif request.method != PaymentMethod.EFT:
            problems.append(
                _("%(number)s is paid by %(method)s, not by EFT.")
                % {"number": number, "method": request.get_method_display().lower()}
            )
        elif request.provider_id not in accounts:
            problems.append(
                _("%(provider)s has no bank account: record it before paying %(number)s.")
                % {"provider": request.provider.name, "number": number}
            )
        elif request.clinic_cost <= ZERO:
            problems.append(_("%(number)s has nothing to pay.") % {"number": number})
        else:
            problems.extend(request_drift(request))
    return problems


def _created_on(created_on: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if created_on is None:
        return today
    if not isinstance(created_on, dt.date) or isinstance(created_on, dt.datetime):
        raise TypeError("created_on must be a date")
    if not today <= created_on <= today + dt.timedelta(days=MAX_DAYS_AHEAD):
        message = _("The funds are made available today or within %(days)s days.") % {
            "days": MAX_DAYS_AHEAD
        }
        raise DomainError("eft_file_date", message, fields={"created_on": [message]})
    return created_on


def _highest_number() -> int:
    """The highest file creation number used, its row locked until the transaction ends."""
    highest = (
        EftFile.objects.select_for_update()
        .order_by("-file_creation_number")
        .values_list("file_creation_number", flat=True)
        .first()
    )
    return highest or 0


def _numbered_file(*, originator, created_on, credits, actor) -> tuple[EftFile, str]:
    """The EftFile row under the next file creation number, and its text."""
    for _attempt in range(NUMBER_ATTEMPTS):
        number = _highest_number() + 1
        if number > MAX_FILE_CREATION_NUMBER:
            raise DomainError(
                "eft_file_numbers_used",
                _(
                    "Every file creation number up to 9999 has been used: ask the bank for a "
                    "new originator ID."
                ),
            )
        try:
            text = cpa005_file(
                originator=originator,
                file_creation_number=number,
                created_on=created_on,
                credits=credits,
            )
        except Cpa005Error as error:
            raise DomainError(
                "eft_file_invalid",
                _("The EFT file could not be written: %(why)s") % {"why": str(error)},
            ) from None
        try:
            with transaction.atomic():
                eft_file = EftFile.objects.create(
                    file_creation_number=number,
                    created_on=created_on,
                    credit_count=len(credits),
                    credit_total=sum((c.amount for c in credits), ZERO),
                    content_sealed=b"",
                    created_by=actor.user,
                )
        except IntegrityError:
            continue  # another file took this number meanwhile: take the next one
        return eft_file, text
    raise DomainError(
        "eft_file_busy",
        _("Another EFT file was being made at the same time: try again."),
    )


def eft_file_create(
    *,
    actor: Actor,
    created_on: dt.date | None = None,
    requests: Sequence[PaymentRequest] | None = None,
) -> EftFile:
    """One CPA-005 file paying the approved EFT requests waiting (or `requests`)."""
    _require_finance(actor, _("Only finance makes the EFT files."))
    created_on = _created_on(created_on)
    originator = eft_originator()
    with transaction.atomic():
        locked = _locked_requests(requests)
        if not locked:
            raise DomainError(
                "eft_nothing_to_pay", _("No approved EFT payment request waits to be paid.")
            )
        if len(locked) > MAX_CREDITS_PER_FILE:
            if requests is not None:
                raise DomainError(
                    "eft_file_too_many",
                    _("At most %(n)s payments in one EFT file.") % {"n": MAX_CREDITS_PER_FILE},
                )
            locked = locked[:MAX_CREDITS_PER_FILE]  # the oldest; the rest go in the next file
        accounts = {
            account.provider_id: account
            for account in ProviderBankAccount.objects.filter(
                provider_id__in={r.provider_id for r in locked}
            )
        }
        problems = _problems(locked, accounts)
        if problems:
            raise DomainError("eft_file_refused", " ".join(problems), fields={"requests": problems})
        credits = []
        for request in locked:
            institution, transit, account = _details(accounts[request.provider_id])
            credits.append(
                Credit(
                    amount=request.clinic_cost,
                    payee_name=request.provider.name,
                    institution=institution,
                    transit=transit,
                    account=account,
                    cross_reference=request.display_number,
                    funds_available=created_on,
                )
            )
        eft_file, text = _numbered_file(
            originator=originator, created_on=created_on, credits=credits, actor=actor
        )
        EftFile.objects.filter(pk=eft_file.pk).update(
            content_sealed=seal(text, context=_file_context(eft_file.pk))
        )
        label = f"EFT file {eft_file.file_creation_number:04d}"
        for request, credit in zip(locked, credits, strict=True):
            EftCredit.objects.create(
                file=eft_file,
                request=request,
                amount=credit.amount,
                cross_reference=credit.cross_reference,
            )
            _pay(request, credit=credit, label=label, paid_on=created_on, actor=actor)
        audit_record(
            actor=actor,
            action="eft_file.created",
            obj=eft_file,
            summary=f"{label}: {len(credits)} credits, {eft_file.credit_total:.2f}",
            payload={
                "file_creation_number": eft_file.file_creation_number,
                "created_on": created_on.isoformat(),
                "credit_count": len(credits),
                "credit_total": f"{eft_file.credit_total:.2f}",
                "requests": [r.display_number for r in locked],
            },
        )
    eft_file.refresh_from_db()
    return eft_file


def _pay(request: PaymentRequest, *, credit: Credit, label: str, paid_on, actor: Actor) -> None:
    paid = PAYMENT_REQUEST_WORKFLOW.fire(
        record=request,
        name="pay",
        actor=actor,
        payload={"amount": f"{credit.amount:.2f}", "confirmation": credit.cross_reference},
    )
    payment = ProviderPrepayment.objects.create(
        request=paid,
        paid_on=paid_on,
        method=PaymentMethod.EFT,
        amount=credit.amount,
        participants=label,
        confirmation=credit.cross_reference,
        recorded_by=actor.user,
    )
    post_prepayment(paid, payment, actor=actor)
    audit_record(
        actor=actor,
        action="payment_request.payment_recorded",
        obj=payment,
        summary=f"{paid.display_number} paid {credit.amount:.2f} to {paid.provider.name} ({label})",
        payload={
            "amount": f"{credit.amount:.2f}",
            "method": PaymentMethod.EFT.value,
            "paid_on": str(paid_on),
        },
    )


def eft_file_text(*, eft_file: EftFile, actor: Actor) -> str:
    """The file to send to the bank (it holds account numbers): finance, each time audited."""
    _require_finance(actor, _("Only finance downloads the EFT files."))
    text = unseal(eft_file.content_sealed, context=_file_context(eft_file.pk))
    audit_record(
        actor=actor,
        action="eft_file.downloaded",
        obj=eft_file,
        summary=f"EFT file {eft_file.file_creation_number:04d} downloaded",
        payload={
            "file_creation_number": eft_file.file_creation_number,
            "credit_count": eft_file.credit_count,
            "credit_total": f"{eft_file.credit_total:.2f}",
        },
    )
    return text


def eft_files_reseal() -> int:
    """Seal every EFT file again under the vault's current key (after a key rotation, beside
    `vault.vault_reseal`). Returns how many were moved."""
    moved = 0
    with transaction.atomic():
        for eft_file in EftFile.objects.select_for_update().order_by("pk"):
            fresh = reseal(eft_file.content_sealed, context=_file_context(eft_file.pk))
            if bytes(fresh) != bytes(eft_file.content_sealed):
                EftFile.objects.filter(pk=eft_file.pk).update(content_sealed=fresh)
                moved += 1
    return moved


# --- Reads for the EFT page ---------------------------------------------------------------------


def eft_requests_waiting() -> list[tuple[PaymentRequest, ProviderBankAccount | None]]:
    """The approved EFT requests in no file yet, oldest first, each with its provider's bank
    account (None: it must be recorded before the file is made)."""
    waiting = list(
        PaymentRequest.objects.filter(status=S.APPROVED, method=PaymentMethod.EFT)
        .exclude(pk__in=EftCredit.objects.values("request_id"))
        .select_related("provider")
        .order_by("pk")
    )
    accounts = {
        account.provider_id: account
        for account in ProviderBankAccount.objects.filter(
            provider_id__in={r.provider_id for r in waiting}
        ).select_related("updated_by")
    }
    return [(request, accounts.get(request.provider_id)) for request in waiting]


def eft_files(*, limit: int = 100) -> list[EftFile]:
    return list(
        EftFile.objects.select_related("created_by").order_by("-file_creation_number")[:limit]
    )
