"""The staff work queue: every open case with its age in its state, what waits too long; any
other state on request; and the search that finds any case, in any state, by patient.

The filters are GET (bookmarkable) and carry only states, owners, insurer, urgency, age and an
Order Id or insurer reference: never a patient's name, which would land in browser history
and server logs. The patient search is a POST for that reason. The queue shows each case's
patient name and city to staff, so each case on the page is recorded as read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability
from medworks.bookings import selectors
from medworks.bookings.models import (
    BookingRequest,
    BookingStatus,
)

from ..access import require_capability
from ..actions import origin_of
from .forms import (
    CaseSearchForm,
    QueueFilterForm,
)

CASES_PER_PAGE = 50


def age_label(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(days)s d %(hours)s h") % {"days": hours // 24, "hours": hours % 24}


def _threshold_label(threshold: dt.timedelta | None) -> str:
    """24 h, 2 d 0 h: a threshold as the ages beside it are written."""
    return age_label(threshold) if threshold is not None else ""


@dataclass(frozen=True)
class QueueRow:
    case: BookingRequest
    age: str
    overdue: bool
    services: list


@require_capability(Capability.BOOKING_VIEW)
def work_queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    insurers = selectors.insurer_list()
    form = QueueFilterForm(request.GET or None, insurers=insurers)
    cases = selectors.work_queue(user=request.user, now=now, **form.queue_kwargs())
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        age = selectors.queue_age(case, now=now)
        rows.append(
            QueueRow(case, age_label(age.age), age.overdue, [s.name for s in case.services.all()])
        )
    selectors.record_listed(
        user=request.user, cases=page.object_list, origin=origin_of(request), listed="queue"
    )
    counts = selectors.work_queue_counts(user=request.user, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    state_query = request.GET.copy()
    for key in ("page", "state"):
        state_query.pop(key, None)
    tabs = [
        {
            "state": state,
            "label": BookingStatus(state).label,
            "total": counts[state]["total"],
            "overdue": counts[state]["overdue"],
            "threshold": _threshold_label(selectors.queue_threshold(state)),
        }
        for state in selectors.QUEUE_STATES
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "open_total": sum(t["total"] for t in tabs),
        "open_states": selectors.QUEUE_STATES,
        "current_state": form.cleaned_data.get("state", "") if form.is_valid() else "",
        "query": query.urlencode(),
        "state_query": state_query.urlencode(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "web/staff/bookings/_queue_table.html", context)
    return render(request, "web/staff/bookings/queue.html", context)


def staff_booking_counts(user) -> dict:
    """For the staff home: open cases, unassigned new ones, and those waiting too long."""
    counts = selectors.work_queue_counts(user=user)
    return {
        "open": sum(c["total"] for c in counts.values()),
        "received": counts[BookingStatus.RECEIVED]["total"],
        "overdue": sum(c["overdue"] for c in counts.values()),
        "queue_url": reverse("web:staff_booking_queue"),
    }


@require_capability(Capability.BOOKING_VIEW)
def case_search(request: HttpRequest) -> HttpResponse:
    """Find any case, in any state, by Order Id, insurer reference, patient name or date of
    birth. A POST, so the name typed is in no URL, history or server log."""
    form = CaseSearchForm(request.POST or None)
    cases = None
    if request.method == "POST" and form.is_valid():
        cases = selectors.case_search(
            user=request.user, q=form.cleaned_data["q"], origin=origin_of(request)
        )
    return render(
        request,
        "web/staff/bookings/search.html",
        {"form": form, "cases": cases, "limit": selectors.SEARCH_LIMIT},
    )
