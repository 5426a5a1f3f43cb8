"""The management dashboard (issue 12): reads only, a handful of aggregate queries.

Every figure is grouped in the database (GROUP BY, filtered sums), never by looping over
cases or invoices in Python, so the page costs the same few queries with 100 cases or
100,000 (bench target: 500 ms on PostgreSQL). No patient data: counts, hours and amounts.

- Requests by state: every case, per status (all states listed, zeros included).
- Waiting beyond thresholds: per open state, the cases in it and those that waited longer
  than the state's threshold (`MEDWORKS_QUEUE_THRESHOLDS_HOURS`, as the work queue flags).
- Per month of the window (the last `months` calendar months, this one included):
  requests created, of them how many were ever escalated to management (an "escalate"
  event), cases booked (their first "approve_date" event in the month) and the median hours
  from request to that booking.
- Revenue and margin, per month of issue and per insurer: issued invoices' lines before tax,
  credit notes' lines negative; the margin is the MedWorks fee of each line's quote.
- Receivables (owed by insurers, overdue, their unapplied credit) and payables (owed to
  providers, overdue), on `today`, from the ledger.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Func,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from medworks.billing.models import (
    INVOICE_OPEN_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LedgerAccount,
    LedgerEntry,
)
from medworks.billing.payables import PAYABLE_STATUSES
from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus
from medworks.bookings.selectors import QUEUE_STATES, queue_threshold
from medworks.core.money import to_money

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")  # hours and percentages are shown to the tenth
ESCALATE = "escalate"
BOOKED = "approve_date"  # the insurer's approval of a date books the case


# --- What the page shows --------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Waiting:
    status: str
    label: str
    waiting: int
    overdue: int  # waited longer than the threshold
    threshold_hours: int | None  # None: the state has no threshold


@dataclass(frozen=True)
class Month:
    month: dt.date  # its first day
    requests: int  # cases created in the month
    escalated: int  # of them, escalated to management at some point
    booked: int  # cases whose first booking was in the month
    median_hours: Decimal | None  # request to booking, of those booked; None: none booked
    revenue: Decimal
    margin: Decimal

    @property
    def escalation_percent(self) -> Decimal | None:
        return _percent(self.escalated, self.requests)


@dataclass(frozen=True)
class InsurerRevenue:
    insurer_id: int
    name: str
    revenue: Decimal
    margin: Decimal


@dataclass(frozen=True)
class Balances:
    receivable: Decimal  # the insurers' open invoices' balances
    receivable_overdue: Decimal  # of which past their due date
    insurer_credit: Decimal  # money received not yet applied to an invoice
    payable: Decimal  # owed to providers on approved invoices
    payable_overdue: Decimal  # of which past their due date


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    start: dt.date  # the window's first day (a month's first day)
    by_state: tuple[StateCount, ...]
    waiting: tuple[Waiting, ...]
    months: tuple[Month, ...]  # oldest first, every month of the window
    insurers: tuple[InsurerRevenue, ...]  # most revenue first
    median_hours: Decimal | None  # over the window
    balances: Balances

    @property
    def requests(self) -> int:
        return sum(m.requests for m in self.months)

    @property
    def escalated(self) -> int:
        return sum(m.escalated for m in self.months)

    @property
    def escalation_percent(self) -> Decimal | None:
        return _percent(self.escalated, self.requests)

    @property
    def booked(self) -> int:
        return sum(m.booked for m in self.months)

    @property
    def revenue(self) -> Decimal:
        return sum((m.revenue for m in self.months), ZERO)

    @property
    def margin(self) -> Decimal:
        return sum((m.margin for m in self.months), ZERO)

    @property
    def cases_total(self) -> int:
        return sum(s.count for s in self.by_state)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH)


# --- The one entry point ----------------------------------------------------------------------


def dashboard(*, today: dt.date, months: int = 12, now: dt.datetime | None = None) -> Dashboard:
    """The figures on `today` over the last `months` calendar months (this one included).
    `now` (default: the clock) is when the waiting is measured."""
    if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
        raise TypeError("today must be a date")
    if months < 1:
        raise ValueError("months must be at least 1")
    now = now or timezone.now()
    month_starts = _month_starts(today, months)
    start = month_starts[0]
    zone = timezone.get_current_timezone()
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    bounds = _month_bounds(month_starts, until)

    by_state, waiting = _states(now)
    requests = _requests_by_month(bounds)
    booked, median_by_month, median_all = _booking_times(bounds)
    revenue, insurers = _revenue(start, today)
    rows = tuple(
        Month(
            month=m,
            requests=requests.get(i, (0, 0))[0],
            escalated=requests.get(i, (0, 0))[1],
            booked=booked.get(i, 0),
            median_hours=median_by_month.get(i),
            revenue=revenue.get(m, (ZERO, ZERO))[0],
            margin=revenue.get(m, (ZERO, ZERO))[1],
        )
        for i, m in enumerate(month_starts)
    )
    return Dashboard(
        today=today,
        start=start,
        by_state=by_state,
        waiting=waiting,
        months=rows,
        insurers=insurers,
        median_hours=median_all,
        balances=_balances(today),
    )


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def _month_of(value) -> dt.date:
    """TruncMonth gives a date for a date, an aware datetime in the current zone otherwise."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return dt.date(value.year, value.month, 1)


# --- Cases -------------------------------------------------------------------------------------


def _overdue_q(now: dt.datetime) -> Q:
    # The work queue's rule (bookings.selectors): each open state against its own threshold.
    q = Q(pk__in=[])
    for state in QUEUE_STATES:
        limit = queue_threshold(state)
        if limit is not None:
            q |= Q(status=state, status_changed_at__lt=now - limit)
    return q


def _states(now: dt.datetime) -> tuple[tuple[StateCount, ...], tuple[Waiting, ...]]:
    """One query for both: every case per status, and how many waited too long."""
    rows = {
        row["status"]: row
        for row in BookingRequest.objects.values("status")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=_overdue_q(now)))
        .order_by()
    }
    by_state = tuple(
        StateCount(status.value, str(status.label), rows.get(status.value, {}).get("n", 0))
        for status in BookingStatus
    )
    waiting = []
    for state in QUEUE_STATES:
        row = rows.get(state, {})
        limit = queue_threshold(state)
        waiting.append(
            Waiting(
                status=str(state),
                label=str(BookingStatus(state).label),
                waiting=row.get("n", 0),
                overdue=row.get("overdue", 0),
                threshold_hours=int(limit.total_seconds() // 3600) if limit else None,
            )
        )
    return by_state, tuple(waiting)


def _month_bounds(month_starts: list[dt.date], until: dt.datetime) -> list[dt.datetime]:
    """The window's months as instants: each month's first midnight in the current zone, and
    `until` (the window's end) last; month i is [bounds[i], bounds[i + 1])."""
    zone = timezone.get_current_timezone()
    return [dt.datetime.combine(m, dt.time.min, tzinfo=zone) for m in month_starts] + [until]


def _month_index(field: str, bounds: list[dt.datetime]) -> Case:
    """Which month of the window `field` (an instant in the window) falls in, 0 the oldest:
    comparisons with the months' bounds, so no per-row time zone conversion (SQLite does that
    in Python) and an index on `field` still serves the window's range."""
    return Case(
        *(When(**{f"{field}__lt": bound}, then=Value(i)) for i, bound in enumerate(bounds[1:-1])),
        default=Value(len(bounds) - 2),
        output_field=IntegerField(),
    )


def _requests_by_month(bounds: list[dt.datetime]) -> dict[int, tuple[int, int]]:
    """Cases created per month of the window (by its index), and how many of them have an
    "escalate" event (escalated out of area at any time since: a case escalated twice counts
    once). One query."""
    # An IN over the escalations (scanned once, hashed) rather than an EXISTS per case.
    escalated = Q(pk__in=BookingEvent.objects.filter(kind=ESCALATE).values("request_id"))
    rows = (
        BookingRequest.objects.filter(created_at__gte=bounds[0], created_at__lt=bounds[-1])
        .annotate(month=_month_index("created_at", bounds))
        .values("month")
        .annotate(n=Count("pk"), escalated=Count("pk", filter=escalated))
        .order_by()
    )
    return {row["month"]: (row["n"], row["escalated"]) for row in rows}


class _Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, in the database."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class _Seconds(ExpressionWrapper):
    """An interval as seconds (PostgreSQL's EXTRACT(EPOCH ...)), for the median."""

    def __init__(self, expression):
        super().__init__(expression, output_field=FloatField())

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        return f"EXTRACT(EPOCH FROM ({sql}))", params


class _HoursAfter(Func):
    """SQLite: how many hours the first timestamp is after the second (julianday, in the
    database), a float per row rather than two datetimes parsed in Python."""

    template = "((julianday(%(expressions)s)) * 24)"
    arg_joiner = ") - julianday("
    output_field = FloatField()


def _first_bookings(until: dt.datetime):
    """Each case's first "approve_date" event before `until`, one row per case (`at`), with
    the case's request time (`requested`): grouped once, not an anti-join per event. A later
    approval (a rescheduled case approves again) is not a booking; the caller keeps the rows
    whose first approval is in the window (an earlier one means the case was booked before)."""
    return (
        BookingEvent.objects.filter(kind=BOOKED, occurred_at__lt=until)
        .values("request_id")
        .annotate(at=Min("occurred_at"), requested=Min("request__created_at"))
        .order_by()
    )


def _hours(value) -> Decimal:
    return Decimal(str(value)).quantize(TENTH)


def _booking_times(bounds: list[dt.datetime]):
    """Per month of booking (by its index): how many cases were booked, and the median hours
    from the request to that booking; and the median over the window. One query.

    PostgreSQL computes the counts and medians (percentile_cont, one per month filtered, and
    one over all) over the cases' first bookings. SQLite has no percentile: it computes each
    booking's month and hours (two numbers per booked case, no timestamp parsed) and Python
    takes the medians."""
    first = _first_bookings(bounds[-1]).filter(at__gte=bounds[0])
    if connection.vendor == "postgresql":
        seconds = _Seconds(F("at") - F("requested"))
        figures = {"overall": _Median(seconds)}
        for i in range(len(bounds) - 1):
            in_month = Q(at__gte=bounds[i], at__lt=bounds[i + 1])
            figures[f"n{i}"] = Count("request_id", filter=in_month)
            figures[f"median{i}"] = _Median(seconds, filter=in_month)
        row = first.aggregate(**figures)
        booked, medians = {}, {}
        for i in range(len(bounds) - 1):
            if row[f"n{i}"]:
                booked[i] = row[f"n{i}"]
                medians[i] = _hours(row[f"median{i}"] / 3600)
        overall = row["overall"]
        return booked, medians, (_hours(overall / 3600) if overall is not None else None)
    waits: dict[int, list[float]] = defaultdict(list)
    rows = first.annotate(
        month=_month_index("at", bounds), hours=_HoursAfter("at", "requested")
    ).values_list("month", "hours")
    for month, hours in rows:
        waits[month].append(hours)
    everything = [w for month in waits.values() for w in month]
    return (
        {month: len(w) for month, w in waits.items()},
        {month: _hours(statistics.median(w)) for month, w in waits.items()},
        _hours(statistics.median(everything)) if everything else None,
    )


# --- Money ------------------------------------------------------------------------------------


def _revenue(start: dt.date, today: dt.date):
    """Revenue and margin per month of issue, and per insurer, over the window; one query.

    Revenue: the lines (before tax) of every issued invoice, a credit note's negative (it
    reverses its invoice in the month the credit note is issued, as the ledger does).

    Margin: the MedWorks fee on the quote each line was invoiced from. The quote is what the
    insurer confirmed and the line's amount was copied from it (clinic cost + fee), so its
    fee is exactly what the line earns over the clinic's cost; the providers' invoices are
    not used because they arrive later (or never, for a pre-paid provider) and their
    differences are flagged to finance, not to the margin. A line of one case's invoice is
    one service of the quote: that quote line's fee. A line of a monthly statement is a whole
    case at the quote's subtotal: the quote's fee. A line without a quote adds no margin.
    """
    # The quote line of the line's service: a join on (quote, service), unique on QuoteLine,
    # so no line is counted twice (a correlated subquery per line would cost a lookup each).
    fee = Case(
        When(quote__isnull=True, then=None),
        When(service__isnull=True, then=F("quote__medworks_fee")),
        default=F("service_line__medworks_fee"),
    )
    rows = (
        InvoiceLine.objects.annotate(
            service_line=FilteredRelation(
                "quote__lines", condition=Q(quote__lines__service_id=F("service_id"))
            )
        )
        .filter(
            invoice__number__isnull=False,
            invoice__issue_date__gte=start,
            invoice__issue_date__lte=today,
        )
        .annotate(month=TruncMonth("invoice__issue_date"))
        .values("month", "invoice__kind", "invoice__insurer", "invoice__insurer__name")
        .annotate(revenue=Coalesce(Sum("amount"), ZERO), margin=Coalesce(Sum(fee), ZERO))
        .order_by()
    )
    by_month: dict[dt.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    by_insurer: dict[int, list] = {}
    for row in rows:
        sign = -1 if row["invoice__kind"] == InvoiceKind.CREDIT_NOTE else 1
        # SQLite sums decimals as floats: back to the cent (exact on PostgreSQL).
        revenue = sign * to_money(row["revenue"])
        margin = sign * to_money(row["margin"])
        month = by_month[_month_of(row["month"])]
        month[0] += revenue
        month[1] += margin
        insurer = by_insurer.setdefault(
            row["invoice__insurer"], [row["invoice__insurer__name"], ZERO, ZERO]
        )
        insurer[1] += revenue
        insurer[2] += margin
    insurers = tuple(
        sorted(
            (
                InsurerRevenue(pk, name, revenue, margin)
                for pk, (name, revenue, margin) in by_insurer.items()
            ),
            key=lambda r: (-r.revenue, r.name, r.insurer_id),
        )
    )
    return {m: (v[0], v[1]) for m, v in by_month.items()}, insurers


def _net(where: Q | None = None, *, owed_by_medworks: bool = False):
    """Debits less credits (an asset: receivable), or credits less debits (a liability:
    payable), of the rows `where` selects."""
    debit = Coalesce(Sum("debit", filter=where), ZERO)
    credit = Coalesce(Sum("credit", filter=where), ZERO)
    return credit - debit if owed_by_medworks else debit - credit


def _balances(today: dt.date) -> Balances:
    """Three queries on the ledger, as `billing.receivables.ageing` and `billing.payables`
    count (the tests hold them equal), without their per-invoice rows.

    Receivables: the receivable rows dated by `today` of the invoices that can owe anything
    then (open now, or settled after `today`: ageing's candidates, so 100,000 paid invoices
    are not summed); overdue when the due date is before `today` (ageing's 1 day and more).
    Payables: the payable rows of approved, not fully paid providers' invoices; overdue as
    `payables()` counts it."""
    zone = timezone.get_current_timezone()
    day_after = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    candidates = Invoice.objects.filter(
        Q(status__in=INVOICE_OPEN_STATUSES) | Q(status_changed_at__gte=day_after),
        kind=InvoiceKind.INVOICE,
        issue_date__lte=today,
    ).values("pk")
    receivable = LedgerEntry.objects.filter(
        account=LedgerAccount.RECEIVABLE, journal__date__lte=today
    )
    owed = receivable.filter(invoice__in=candidates).aggregate(
        owed=_net(), overdue=_net(Q(invoice__due_date__lt=today))
    )
    credit = receivable.filter(invoice__isnull=True).aggregate(net=_net())["net"]
    payable = LedgerEntry.objects.filter(
        account=LedgerAccount.PAYABLE, provider_invoice__status__in=PAYABLE_STATUSES
    ).aggregate(
        owed=_net(owed_by_medworks=True),
        overdue=_net(Q(provider_invoice__due_date__lt=today), owed_by_medworks=True),
    )
    return Balances(
        receivable=to_money(owed["owed"]),
        receivable_overdue=to_money(owed["overdue"]),
        # The rows on no invoice net to a credit (never a debt: applying credit only uses it).
        insurer_credit=to_money(-credit) if credit < 0 else ZERO,
        payable=to_money(payable["owed"]),
        payable_overdue=to_money(payable["overdue"]),
    )
