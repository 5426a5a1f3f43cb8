"""The booking inbox: the emails the mailbox fetch could not make a case of, for an agent.

The list shows who wrote, the subject (card numbers masked), when it came and why it waits;
never the body, which holds patient information and is read only in the intake page, where
opening it is recorded. Each row opens the staff intake page prefilled from the message
(`staff/bookings/new/?inbound=<id>`); the message's bytes stay on the server (the page names
the message by id, never carries it), so a card number in it is never sent back to a browser.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError, NotFound
from medworks.mailbox import selectors, services
from medworks.mailbox.models import InboundEmail
from medworks.mailbox.reasons import reasons_text

from ..access import actor_of, require_capability
from ..actions import case_or_404, origin_of

LIST_LIMIT = 200


@require_capability(Capability.BOOKING_WORK)
def inbox_list(request: HttpRequest) -> HttpResponse:
    waiting = list(selectors.inbox_waiting()[: LIST_LIMIT + 1])
    rows = [(email, reasons_text(email.reasons)) for email in waiting[:LIST_LIMIT]]
    return render(
        request,
        "web/staff/inbox.html",
        {"rows": rows, "more": len(waiting) > LIST_LIMIT, "limit": LIST_LIMIT},
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def inbox_dismiss(request: HttpRequest) -> HttpResponse:
    """Set a waiting email aside (the email's id is posted, so no URL names one)."""
    inbound = selectors.inbound_email_get(pk=request.POST.get("message", ""))
    if inbound is None:
        raise Http404("No such email")
    try:
        services.inbound_email_dismiss(inbound_email=inbound, actor=actor_of(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The email was dismissed. It is kept, out of the list."))
    return redirect("web:staff_inbox")


def waiting_email_of(request: HttpRequest) -> InboundEmail | None:
    """The waiting email the intake page was opened for (`inbound`), its reading recorded;
    None when the page is used for an upload; 404 when it is no longer waiting."""
    source = request.POST if request.method == "POST" else request.GET
    pk = source.get("inbound", "")
    if not pk:
        return None
    try:
        return selectors.inbound_email_waiting_get(
            pk=pk, actor=actor_of(request), origin=origin_of(request)
        )
    except NotFound:
        raise Http404("No such email waiting") from None


@require_capability(Capability.BOOKING_VIEW)
def case_email(request: HttpRequest, order_id: str, email_id: int) -> HttpResponse:
    """A reply filed on the case, as a download (never shown inline: it may hold HTML)."""
    case = case_or_404(request, order_id, purpose="email_downloaded")
    inbound = selectors.inbound_emails_filed_on(case=case).filter(pk=email_id).first()
    if inbound is None:
        raise Http404("No such email on this case")
    response = HttpResponse(selectors.raw_of(inbound), content_type="application/octet-stream")
    response["Content-Disposition"] = (
        f'attachment; filename="{case.order_id}-email-{inbound.pk}.eml"'
    )
    return response
