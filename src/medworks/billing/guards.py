"""billing's guard on the booking workflow: the insurer confirms the charges before a date is
approved, where the charges must be confirmed first (SOP case 2 step 4, case 4 step 2).

Out of network (a provider MedWorks pre-pays: `selectors.prepayment_needed`), always: MedWorks
is about to spend its own money. In network, only for an insurer whose setting says so
(`InsurerPricing.in_network_needs_confirmation`); otherwise the confirmation may come later,
before any payment (the payments issue checks that door again).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import QuoteStatus
from .selectors import insurer_pricing_of, prepayment_needed, quote_current


def charges_confirmed_before_booking(case, actor) -> str | None:
    if case.location_id is None:
        return None
    if not (
        prepayment_needed(case) or insurer_pricing_of(case.insurer).in_network_needs_confirmation
    ):
        return None
    quote = quote_current(case=case)
    if quote is not None and quote.status == QuoteStatus.CONFIRMED:
        return None
    return _("The insurer must confirm the charges (the quote) before a date is approved.")
