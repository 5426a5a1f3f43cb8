"""An insurer's statement of account as a PDF download, shared by finance's receivables page
(`staff/invoices.py`, any insurer) and the insurer portal's invoices (`insurer/invoices.py`, its
own): `billing.statement_pdf.statement_pdf_bytes` decides who may read which insurer's (NotFound
otherwise: 404) and records each download."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy

from medworks.accounts.models import Organisation
from medworks.billing.statement_pdf import filename_of, statement_pdf_bytes
from medworks.core.errors import DomainError, NotFound

from .access import actor_of


class StatementDateForm(forms.Form):
    as_of = forms.DateField(
        label=gettext_lazy("On"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def statement_pdf_response(request: HttpRequest, insurer: Organisation, *, origin: str):
    """`insurer`'s statement of account as a PDF download, on `?as_of=YYYY-MM-DD` (today by
    default); the date unreadable or in the future: 400; not the reader's to see: 404."""
    form = StatementDateForm(request.GET)
    if not form.is_valid():
        return HttpResponse(gettext("Enter the date as YYYY-MM-DD."), status=400)
    try:
        statement, content = statement_pdf_bytes(
            insurer=insurer,
            actor=actor_of(request),
            as_of=form.cleaned_data["as_of"],
            origin=origin,
        )
    except NotFound:
        raise Http404("No such statement") from None
    except DomainError as exc:
        return HttpResponse(exc.message, status=400)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename_of(statement)}"'
    response["Cache-Control"] = "private, no-store"
    return response
