"""Email intake: an agent enters a request that came by email, with the original message
attached and the fields prefilled from it.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medworks.accounts.permissions import Capability
from medworks.bookings import intake, services
from medworks.bookings.models import (
    BookingRequest,
    Channel,
)
from medworks.core.errors import DomainError
from medworks.mailbox import selectors as inbox_selectors
from medworks.mailbox import services as inbox_services
from medworks.mailbox.reading import SOURCE_FILENAME
from medworks.mailbox.reasons import reasons_text

from ..access import actor_of, require_capability
from ..actions import case_or_404
from ..forms import add_domain_errors
from .forms import (
    EmailSourceForm,
)
from .inbox import waiting_email_of

PASTED_NAME = "pasted-email.txt"


@require_capability(Capability.BOOKING_VIEW)
def case_source(request: HttpRequest, order_id: str) -> HttpResponse:
    """The original email, as a download (never shown inline: it may hold HTML)."""
    case = case_or_404(request, order_id, purpose="source_downloaded")
    content = (
        BookingRequest.objects.filter(pk=case.pk).values_list("source_content", flat=True).get()
    )
    if not content:
        raise Http404("This request has no original message")
    response = HttpResponse(bytes(content), content_type="application/octet-stream")
    name = case.source_filename or "original-message"
    # Quoted or percent-encoded as the name needs: no character of it can break the header.
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{case.order_id}-{name}"
    )
    return response


def _source_of(form: EmailSourceForm) -> tuple[str, bytes]:
    """The original message: a new upload, the one carried from the first step, or the text."""
    upload = getattr(form, "cleaned_data", {}).get("source_file")
    if upload is not None:
        return upload.name, upload.read()
    carried = form.cleaned_data.get("carried_b64")
    if carried:
        try:
            return form.cleaned_data.get("carried_name") or "email.eml", base64.b64decode(
                carried, validate=True
            )
        except (binascii.Error, ValueError):
            return "", b""
    text = (form.cleaned_data.get("source_text") or "").strip()
    if text:
        return PASTED_NAME, text.encode("utf-8")
    return "", b""


@require_capability(Capability.BOOKING_WORK)
def booking_intake(request: HttpRequest) -> HttpResponse:
    """Two steps on one page: "Read the email" prefills the form; "Create" makes the case.

    The uploaded message travels from the first step to the second in a hidden field (it is
    the agent's own upload, sent back to the same agent), so nothing is stored before the
    agent confirms. Opened from the inbox (`inbound`), the message is the stored one, named by
    its id: its bytes never travel through the page.
    """
    from medworks.bookings.forms import BookingRequestForm

    notes: list[str] = []
    name, raw = "", b""
    inbound = waiting_email_of(request)
    if request.method != "POST":
        source_form, request_form = EmailSourceForm(), BookingRequestForm()
        if inbound is not None:
            name, raw = SOURCE_FILENAME, inbox_selectors.raw_of(inbound)
            source_form, request_form, notes = _prefill(request, name, raw)
            # Why it waits (its card numbers are told by the reader's own note, below).
            waits = [r for r in inbound.reasons if r.get("code") != "card_number"]
            notes = reasons_text(waits) + notes
    else:
        source_form = EmailSourceForm(request.POST, request.FILES)
        source_ok = source_form.is_valid()
        name, raw = _source_of(source_form)
        if inbound is not None:
            name, raw = SOURCE_FILENAME, inbox_selectors.raw_of(inbound)
        if "read" in request.POST:
            source_form, request_form, notes = _prefill(request, name, raw)
        else:
            request_form = BookingRequestForm(request.POST)
            request_ok = request_form.is_valid()
            if not raw:
                source_form.add_error(None, _("Attach the original email or paste its text."))
            elif source_ok and request_ok:
                data = request.POST.dict()
                data["services"] = request.POST.getlist("services")
                try:
                    if inbound is not None:  # the message is marked as having made it
                        case = inbox_services.inbound_email_case_create(
                            inbound_email=inbound,
                            insurer=source_form.cleaned_data["insurer"],
                            data=data,
                            actor=actor_of(request),
                        )
                    else:
                        case = services.booking_request_submit(
                            insurer=source_form.cleaned_data["insurer"],
                            data=data,
                            actor=actor_of(request),
                            channel=Channel.EMAIL,
                            source_filename=name,
                            source_content=raw,
                        )
                except DomainError as exc:
                    add_domain_errors(request_form, exc)
                else:
                    messages.success(
                        request, _("%(order)s created from the email.") % {"order": case.order_id}
                    )
                    return redirect("web:staff_booking_detail", order_id=case.order_id)
    carried = raw and name != PASTED_NAME and inbound is None
    return render(
        request,
        "web/staff/bookings/intake.html",
        {
            "source_form": source_form,
            "form": request_form,
            "notes": notes,
            "carried_name": name if carried else "",
            "carried_b64": base64.b64encode(raw).decode("ascii") if carried else "",
            "inbound": inbound,
        },
        status=400 if source_form.errors or request_form.errors else 200,
    )


def _prefill(request: HttpRequest, name: str, raw: bytes):
    """The forms of the second step, with what the message suggests as initial values."""
    from medworks.bookings.forms import BookingRequestForm

    notes, guess = [], None
    lowered = name.lower()
    if not raw:
        notes.append(_("Attach the original email or paste its text to read it."))
    elif lowered.endswith(".eml"):
        guess = intake.guess_from_eml(raw)
    elif lowered.endswith(".msg"):
        notes.append(
            _(
                "Outlook .msg files are kept with the case but not read: fill in the form "
                "(or save the message as .eml in Outlook to have it prefilled)."
            )
        )
    else:
        guess = intake.guess_from_text(raw.decode("utf-8", errors="replace"))
    initial = guess.initial() if guess else {}
    if guess:
        notes.extend(guess.notes)
        found = len([k for k in initial if k != "insurer"])
        notes.append(
            ngettext(
                "Prefilled %(count)s field from the email: check every value before "
                "creating the case.",
                "Prefilled %(count)s fields from the email: check every value before "
                "creating the case.",
                found,
            )
            % {"count": found}
        )
    source_form = EmailSourceForm(
        initial={
            "insurer": initial.get("insurer") or request.POST.get("insurer", ""),
            "source_text": raw.decode("utf-8", errors="replace") if name == PASTED_NAME else "",
        }
    )
    return source_form, BookingRequestForm(initial=initial), notes
