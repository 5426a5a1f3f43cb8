"""Import and export of the National Affiliate Partner spreadsheet."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError
from medworks.network.exporting import directory_export_xlsx
from medworks.network.importing import directory_import

from ..access import actor_of, require_capability
from ..forms import add_domain_errors
from ..uploads import mark_skipped_uploads
from .forms import ImportForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_capability(Capability.DIRECTORY_IMPORT)
def directory_import_page(request: HttpRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        mark_skipped_uploads(request, form, limit=settings.MEDWORKS_IMPORT_MAX_BYTES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = directory_import(
                    file=upload,
                    filename=upload.name,
                    strict=form.cleaned_data["strict"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=actor_of(request),
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
    else:
        form = ImportForm()
    return render(
        request,
        "web/staff/import.html",
        {"form": form, "report": report, "max_bytes": settings.MEDWORKS_IMPORT_MAX_BYTES},
    )


@require_capability(Capability.DIRECTORY_IMPORT)
def directory_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type=XLSX)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="medworks-directory-{stamp}.xlsx"'
    directory_export_xlsx(out=response)
    return response
