"""The order to finance on the staff case page (SOP case 2 step 3): whether the provider is
paid in advance, the last order sent (when, by whom, its PDF), and the button that sends it.

The panel (`order_panel`, read by staff.case._render_case) shows the button only to staff who
may work cases and only when `billing.orders.order_refusal` has nothing against it; otherwise
it says why, in the use case's own words. The POST (`staff_order_send`) runs the use case,
which decides again.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.orders import order_last, order_refusal, order_send
from medworks.billing.selectors import prepayment_needed, quote_current
from medworks.bookings.models import BookingRequest

from ..access import actor_of, require_capability
from ..actions import case_or_404, run_action


def order_panel(request: HttpRequest, case: BookingRequest) -> dict:
    """The context of `web/staff/_order_panel.html`, as `order_panel`: `needed` (a
    pre-payment, so an order), `last` (the latest stored order version, or None) and its
    download link, `can_send`, and `waits` (why it cannot be sent now, when it is needed)."""
    needed = prepayment_needed(case)
    last = order_last(case)
    refusal = order_refusal(case, quote=quote_current(case=case)) if needed else None
    works = user_can(request.user, Capability.BOOKING_WORK)
    return {
        "order_panel": {
            "needed": needed,
            "last": last,
            "last_url": (
                reverse("web:staff_document_download", args=[case.order_id, last.pk])
                if last is not None
                else ""
            ),
            "can_send": works and needed and refusal is None,
            "waits": refusal.message if refusal is not None else "",
        }
    }


@require_POST
@require_capability(Capability.BOOKING_WORK)
def staff_order_send(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: order_send(case=case, actor=actor_of(request)),
        success=lambda sent: (
            _("The order is sent to finance, with its PDF (version %(version)s).")
            % {"version": sent.version.number}
        ),
    )
    return redirect(reverse("web:staff_booking_detail", args=[case.order_id]) + "#order")
