"""The SOP table of case 4 step 6 (issue 12): every booked order with its figures, filtered
by insurer, provider, order dates and status, its totals, 50 a page by keyset (the page after
row 100,000 costs what the first does), and its CSV and XLSX exports with the same filters.

For the booking coordinator, finance, the Chief of Staff and the CEO (`RECONCILIATION_VIEW`).
The table names patients: the rows shown are recorded as read (`record_listed`), an export's
rows as it writes them (`reconciliation.exports`). Invalid filters show the page with the
fields' errors and status 400, for the page and an export alike (nothing is shown or written
for filters that do not hold).
"""

from __future__ import annotations

import tempfile

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from medworks.accounts.permissions import Capability
from medworks.reconciliation.exports import (
    csv_chunks,
    export_xlsx,
    method_label,
    record_rows_listed,
    status_label,
)
from medworks.reconciliation.selectors import Cursor, table_page

from ..access import actor_of, require_capability
from ..actions import origin_of
from .reconciliation_forms import FILTER_FIELDS, ReconciliationFilterForm

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filter_query(request) -> str:
    """The filters of the request as a query string (the cursor left out)."""
    return urlencode(
        [(name, request.GET[name]) for name in FILTER_FIELDS if request.GET.get(name, "")]
    )


def _form(request) -> ReconciliationFilterForm:
    bound = any(request.GET.get(name, "") for name in FILTER_FIELDS)
    return ReconciliationFilterForm(request.GET if bound else None)


def _page(request, form: ReconciliationFilterForm, *, status: int = 200):
    query = _filter_query(request)
    context = {"form": form, "query": query, "page": None, "lines": []}
    if status == 200:
        after = Cursor.decode(request.GET.get("after", ""))
        page = table_page(form.table_filter(), after=after)
        record_rows_listed(
            page.rows,
            actor=actor_of(request),
            origin=origin_of(request),
            listed="reconciliation table",
        )
        context.update(
            page=page,
            after=after,
            lines=[
                {
                    "row": row,
                    "method": method_label(row.payment_method),
                    "status": status_label(row.status),
                }
                for row in page.rows
            ],
            next_query="&".join(
                part for part in (query, urlencode({"after": page.next_cursor.encode()})) if part
            )
            if page.next_cursor
            else "",
        )
    return render(request, "web/staff/reconciliation/table.html", context, status=status)


@require_safe
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_table(request):
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _page(request, form, status=400)
    return _page(request, form)


@require_safe
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_export(request, fmt: str):
    """The filtered table as CSV (streamed as written) or XLSX (written to a temporary file,
    then streamed from disk)."""
    if fmt not in FORMATS:
        raise Http404("No such export format")
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _page(request, form, status=400)
    where = form.table_filter()
    filename = f"reconciliation-{timezone.localdate().isoformat()}.{fmt}"
    actor, origin = actor_of(request), origin_of(request)
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_chunks(where, actor=actor, origin=origin), content_type=FORMATS["csv"]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # Deleted when closed: FileResponse closes it once sent.
    out = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        export_xlsx(where, out, actor=actor, origin=origin)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return FileResponse(out, as_attachment=True, filename=filename, content_type=FORMATS["xlsx"])
