"""The management dashboard (issue 12): management, the Chief of Staff, the CEO and finance
(`DASHBOARD_VIEW`). Figures only, no patient data; read by `reconciliation.dashboard`, drawn
by `reconciliation.charts` (SVG inlined, no script), each chart with its table."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from medworks.accounts.permissions import Capability
from medworks.reconciliation.charts import bar_chart, line_chart, money_label
from medworks.reconciliation.dashboard import Dashboard
from medworks.reconciliation.dashboard import dashboard as dashboard_figures

from ..access import require_capability


def _month_label(month) -> str:
    return date_format(month, "M Y")


def _charts(figures: Dashboard) -> dict:
    """One SVG per figure, in the page's language (the tables beside carry the numbers)."""
    months = [_month_label(m.month) for m in figures.months]
    open_states = [w.label for w in figures.waiting]
    return {
        "states": bar_chart(
            key="chart-states",
            title=gettext("Requests by state"),
            description=gettext("How many cases are in each state, all cases."),
            labels=[s.label for s in figures.by_state],
            series=[(gettext("Cases"), [s.count for s in figures.by_state])],
            horizontal=True,
        ),
        "waiting": bar_chart(
            key="chart-waiting",
            title=gettext("Cases waiting beyond their thresholds"),
            description=gettext(
                "Per open state: the cases in it, and those waiting longer than its threshold."
            ),
            labels=open_states,
            series=[
                (gettext("Waiting"), [w.waiting for w in figures.waiting]),
                (gettext("Beyond the threshold"), [w.overdue for w in figures.waiting]),
            ],
            horizontal=True,
        ),
        "booking": line_chart(
            key="chart-booking",
            title=gettext("Median time from request to booking"),
            description=gettext("Per month of booking, the median hours from the request."),
            labels=months,
            series=[(gettext("Hours"), [m.median_hours for m in figures.months])],
        ),
        "escalation": bar_chart(
            key="chart-escalation",
            title=gettext("Share of cases escalated out of area"),
            description=gettext(
                "Per month of request, the percentage of cases escalated to management."
            ),
            labels=months,
            series=[(gettext("Share escalated"), [m.escalation_percent for m in figures.months])],
        ),
        "revenue_months": bar_chart(
            key="chart-revenue-months",
            title=gettext("Revenue and margin by month"),
            description=gettext(
                "Per month of issue, the invoices' amounts before tax less credit notes, and "
                "the MedWorks fee in them."
            ),
            labels=months,
            series=[
                (gettext("Revenue"), [m.revenue for m in figures.months]),
                (gettext("Margin"), [m.margin for m in figures.months]),
            ],
            formatter=money_label,
        ),
        "revenue_insurers": bar_chart(
            key="chart-revenue-insurers",
            title=gettext("Revenue and margin by insurer"),
            description=gettext("Per insurer, over the months shown."),
            labels=[i.name for i in figures.insurers],
            series=[
                (gettext("Revenue"), [i.revenue for i in figures.insurers]),
                (gettext("Margin"), [i.margin for i in figures.insurers]),
            ],
            horizontal=True,
            formatter=money_label,
        ),
        "balances": bar_chart(
            key="chart-balances",
            title=gettext("Receivables and payables"),
            description=gettext(
                "What insurers owe MedWorks and what MedWorks owes providers, and how much "
                "of each is overdue."
            ),
            labels=[gettext("Receivables"), gettext("Payables")],
            series=[
                (
                    gettext("Outstanding"),
                    [figures.balances.receivable, figures.balances.payable],
                ),
                (
                    gettext("Overdue"),
                    [figures.balances.receivable_overdue, figures.balances.payable_overdue],
                ),
            ],
            formatter=money_label,
        ),
    }


@require_safe
@require_capability(Capability.DASHBOARD_VIEW)
def dashboard(request):
    """The figures on today (the site's local date), over the last twelve months."""
    figures = dashboard_figures(today=timezone.localdate())
    return render(
        request,
        "web/staff/dashboard.html",
        {"figures": figures, "charts": _charts(figures)},
    )
