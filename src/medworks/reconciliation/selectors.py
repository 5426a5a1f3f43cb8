"""Reads of the reconciliation: the SOP table (filters, totals, keyset pages), the rows an
export streams, the coordinator's queue, the months.

The table names patients: a page shown or an export written is a read of every case in it,
recorded with `record_listed` (RULES.md), by the caller that shows or writes the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from medworks.core.money import to_money

from .models import Reconciliation, ReconciliationMonth, ReconciliationStatus

ZERO = Decimal("0.00")
PAGE_SIZE = 50
_COLUMNS = (
    "case_id",
    "case__order_id",
    "case__patient__first_name",
    "case__patient__last_name",
    "case__patient_id",
    "services",
    "order_date",
    "appointment_at",
    "location",
    "clinic_cost",
    "medworks_cost",
    "total_to_bill",
    "tax",
    "total_with_tax",
    "payment_method",
    "status",
    "insurer__name",
)


@dataclass(frozen=True)
class TableFilter:
    """The table's filters, as the page, the export and the command take them (all optional).
    Dates are the order date, the month an order belongs to."""

    insurer_id: int | None = None
    provider_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    status: str = ""  # a ReconciliationStatus value

    def apply(self, rows: QuerySet[Reconciliation]) -> QuerySet[Reconciliation]:
        if self.insurer_id:
            rows = rows.filter(insurer_id=self.insurer_id)
        if self.provider_id:
            rows = rows.filter(provider_id=self.provider_id)
        if self.date_from:
            rows = rows.filter(order_date__gte=self.date_from)
        if self.date_to:
            rows = rows.filter(order_date__lte=self.date_to)
        if self.status:
            rows = rows.filter(status=self.status)
        return rows

    def describe(self) -> dict:
        """The filters as the access log records them."""
        return {
            "insurer_id": self.insurer_id,
            "provider_id": self.provider_id,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "status": self.status,
        }


@dataclass(frozen=True)
class TableRow:
    """One row of the SOP table (case 4 step 6), then the desk's own columns."""

    number: int  # S.No
    case_id: int
    order_id: str
    patient_name: str
    services: str
    order_date: dt.date
    appointment_at: dt.datetime | None
    location: str
    clinic_cost: Decimal | None
    medworks_cost: Decimal | None
    total_to_bill: Decimal | None  # clinic cost + MedWorks cost
    tax: Decimal | None
    total_with_tax: Decimal | None
    payment_method: str  # a BillingArrangement value, or ""
    status: str  # a ReconciliationStatus value
    insurer: str
    # The patient's id, for the access record of a page shown or an export written (RULES.md).
    patient_id: int | None = None


@dataclass(frozen=True)
class Totals:
    orders: int = 0
    clinic_cost: Decimal = ZERO
    medworks_cost: Decimal = ZERO
    total_to_bill: Decimal = ZERO
    tax: Decimal = ZERO
    total_with_tax: Decimal = ZERO


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this order date and case (newest first), and the
    S.No it continues from."""

    order_date: dt.date
    case_id: int
    number: int

    def encode(self) -> str:
        return f"{self.order_date.isoformat()}.{self.case_id}.{self.number}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for anything that is not a cursor this page wrote (a bad link starts over)."""
        try:
            day, case_id, number = text.split(".")
            return cls(dt.date.fromisoformat(day), int(case_id), int(number))
        except (ValueError, AttributeError):
            return None


@dataclass(frozen=True)
class TablePage:
    rows: list[TableRow]
    next_cursor: Cursor | None
    totals: Totals = field(default_factory=Totals)


def _ordered(where: TableFilter) -> QuerySet[Reconciliation]:
    return where.apply(Reconciliation.objects.all()).order_by("-order_date", "-case_id")


def _row(values: dict, number: int) -> TableRow:
    return TableRow(
        number=number,
        case_id=values["case_id"],
        order_id=values["case__order_id"],
        patient_name=f"{values['case__patient__first_name']} "
        f"{values['case__patient__last_name']}".strip(),
        services=values["services"],
        order_date=values["order_date"],
        appointment_at=values["appointment_at"],
        location=values["location"],
        clinic_cost=values["clinic_cost"],
        medworks_cost=values["medworks_cost"],
        total_to_bill=values["total_to_bill"],
        tax=values["tax"],
        total_with_tax=values["total_with_tax"],
        payment_method=values["payment_method"],
        status=values["status"],
        insurer=values["insurer__name"],
        patient_id=values.get("case__patient_id"),
    )


def table_totals(where: TableFilter) -> Totals:
    """The filtered table's count and sums, in one query."""
    sums = where.apply(Reconciliation.objects.all()).aggregate(
        orders=Count("pk"),
        **{
            name: Coalesce(Sum(name), ZERO)
            for name in ("clinic_cost", "medworks_cost", "total_to_bill", "tax", "total_with_tax")
        },
    )
    # SQLite sums decimals as floats: rounded back to the cent (exact on PostgreSQL).
    return Totals(
        orders=sums.pop("orders"),
        **{name: to_money(value) for name, value in sums.items()},
    )


def table_page(
    where: TableFilter, *, after: Cursor | None = None, size: int = PAGE_SIZE
) -> TablePage:
    """One page of the table, newest order first, after `after` (keyset: the page costs the
    same at row 100,000 as at row 1), with the filtered totals."""
    rows = _ordered(where)
    number = 0
    if after is not None:
        rows = rows.filter(
            Q(order_date__lt=after.order_date)
            | Q(order_date=after.order_date, case_id__lt=after.case_id)
        )
        number = after.number
    found = list(rows.values(*_COLUMNS)[: size + 1])
    page = [_row(values, number + i) for i, values in enumerate(found[:size], start=1)]
    next_cursor = None
    if len(found) > size:
        last = page[-1]
        next_cursor = Cursor(last.order_date, last.case_id, last.number)
    return TablePage(rows=page, next_cursor=next_cursor, totals=table_totals(where))


def table_rows(where: TableFilter, *, chunk_size: int = 2000) -> Iterator[TableRow]:
    """Every row of the filtered table in the page's order, read in chunks (constant memory):
    what the exports write."""
    values = _ordered(where).values(*_COLUMNS).iterator(chunk_size=chunk_size)
    for number, row in enumerate(values, start=1):
        yield _row(row, number)


def table_count(where: TableFilter) -> int:
    return where.apply(Reconciliation.objects.all()).count()


# --- The coordinator's queue -----------------------------------------------------------------


def reconciliation_queue(*, limit: int = 200) -> QuerySet[Reconciliation]:
    """What waits for the coordinator: orders not reconciled, discrepancies first, then the
    oldest order first; each with its checks' details (the amounts)."""
    return (
        Reconciliation.objects.exclude(status=ReconciliationStatus.RECONCILED)
        .select_related("case__patient", "insurer", "provider")
        .order_by("status", "order_date", "case_id")[:limit]  # "discrepancy" < "open"
    )


def counts_by_status(rows: QuerySet[Reconciliation] | None = None) -> dict[str, int]:
    """How many of `rows` (every order) are in each state, every state listed."""
    counts = {s: 0 for s in ReconciliationStatus.values}
    rows = Reconciliation.objects.all() if rows is None else rows
    for row in rows.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def queue_counts() -> dict[str, int]:
    return counts_by_status()


def reconciliation_of(case) -> Reconciliation | None:
    return Reconciliation.objects.filter(case=case).select_related("reconciled_by").first()


# --- Months ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthSummary:
    month: dt.date
    counts: dict[str, int]
    record: ReconciliationMonth | None

    @property
    def closed(self) -> bool:
        return self.record is not None and self.record.status == "closed"

    @property
    def orders(self) -> int:
        return sum(self.counts.values())


def months(*, limit: int = 24) -> list[MonthSummary]:
    """The months with orders, newest first, each with its orders per state and its close."""
    counts: dict[dt.date, dict[str, int]] = {}
    for row in (
        Reconciliation.objects.values("month", "status").annotate(n=Count("pk")).order_by("-month")
    ):
        counts.setdefault(row["month"], {s: 0 for s in ReconciliationStatus.values})[
            row["status"]
        ] = row["n"]
    records = {m.month: m for m in ReconciliationMonth.objects.select_related("closed_by")}
    every = sorted(set(counts) | set(records), reverse=True)[:limit]
    return [
        MonthSummary(
            month=m,
            counts=counts.get(m, {s: 0 for s in ReconciliationStatus.values}),
            record=records.get(m),
        )
        for m in every
    ]
