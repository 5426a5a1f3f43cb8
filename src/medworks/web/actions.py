"""What the web views' actions share: load a case or 404, run one use case, say how it went.

A use case does all it does in one transaction or raises a DomainError, so a view's action is
always the same three steps: find what it acts on, call the use case, and answer. These
helpers are the middle of that; each view keeps its own permission decorator, its own
redirect and its own re-rendered page, so what a route allows and where it goes stays
readable in the view itself.

- `case_or_404`: the case through `booking_request_get`, scoped to what the user may see
  (another organisation's case is a 404, its existence undisclosed) and its reading logged
  with `purpose`.
- `run_action`: a button. A refusal becomes an error message; success, a success message.
- `run_form_action`: a form. It runs only when the form is valid; a refusal goes on the form
  (per field where the DomainError names one) for the view to show again with the input kept.
- `form_action_response`: `run_form_action` and its answer: the view's redirect when it was
  done, else the view's page shown again with the form, answering 400.
- `allowed_steps`: the workflow steps this user may take on the case now (the portals' buttons).
- `calendar_response`: the booked appointment's .ics file (insurer and clinic portals).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse

from medworks.bookings import selectors
from medworks.bookings.models import BookingRequest
from medworks.bookings.workflow import available_transitions
from medworks.core.errors import DomainError, NotFound
from medworks.notifications.calendar import ics_for_appointment

from .access import actor_of
from .forms import add_domain_errors

# The success message: a text, or made from what the use case returned (what it booked).
Success = str | Callable[[Any], str]


def origin_of(request: HttpRequest) -> str:
    """Where the request came from, for the access records."""
    return request.META.get("REMOTE_ADDR", "")


def case_or_404(request: HttpRequest, order_id: str, *, purpose: str) -> BookingRequest:
    """The case, if this user may see it (its reading logged with `purpose`); 404 otherwise."""
    try:
        return selectors.booking_request_get(
            user=request.user, order_id=order_id, origin=origin_of(request), purpose=purpose
        )
    except NotFound:
        raise Http404("No such booking request") from None


def _say(request: HttpRequest, success: Success, result: Any) -> None:
    messages.success(request, success(result) if callable(success) else success)


def run_action(request: HttpRequest, action: Callable[[], Any], *, success: Success) -> bool:
    """Run one use case; its refusal becomes an error message. True when it was done."""
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    _say(request, success, result)
    return True


def run_form_action(
    request: HttpRequest,
    form: forms.BaseForm,
    action: Callable[[dict], Any],
    *,
    success: Success,
    put_errors: Callable[[forms.BaseForm, DomainError], None] = add_domain_errors,
) -> bool:
    """Run `action(form.cleaned_data)` if the form is valid. True when it was done (and the
    success message given); False when the form is invalid or the use case refused, the
    refusal then put on the form by `put_errors`: the caller shows the form again."""
    if not form.is_valid():
        return False
    try:
        result = action(form.cleaned_data)
    except DomainError as exc:
        put_errors(form, exc)
        return False
    _say(request, success, result)
    return True


def form_action_response(
    request: HttpRequest,
    form: forms.BaseForm,
    action: Callable[[dict], Any],
    *,
    success: Success,
    done: Callable[[], HttpResponse],
    again: Callable[[], HttpResponse],
    put_errors: Callable[[forms.BaseForm, DomainError], None] = add_domain_errors,
) -> HttpResponse:
    """`run_form_action`, answered: `done()` (the view's redirect) when it was done; else
    `again()`, the view's page rendered again with the form (its input and its errors kept),
    answering 400."""
    if run_form_action(request, form, action, success=success, put_errors=put_errors):
        return done()
    response = again()
    response.status_code = 400
    return response


def place_slot_errors(formset, rows: list[int], exc: DomainError) -> bool:
    """Put the use case's per-slot errors ("slots.<i>", the i-th slot given) on the formset row
    the person typed that slot in (`rows[i]`). False when none was about a slot."""
    placed = False
    for key, problems in exc.fields.items():
        _, _, index = key.partition(".")
        if index.isdigit() and int(index) < len(rows):
            for problem in problems:
                formset.forms[rows[int(index)]].add_error(None, problem)
            placed = True
    return placed


def allowed_steps(request: HttpRequest, case: BookingRequest) -> set[str]:
    return {t.name for t in available_transitions(case, actor_of(request))}


def calendar_response(case: BookingRequest) -> HttpResponse:
    appointment = selectors.booking_request_current_appointment(case=case)
    if appointment is None:
        raise Http404("No booked appointment")
    response = HttpResponse(
        ics_for_appointment(appointment=appointment, case=case),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{case.order_id}.ics"'
    return response
