"""Import and export of the National Affiliate Partner spreadsheet.

When the import cannot tell which column is a needed field, the page shows the file's headers
and a select per field (ColumnMappingForm) inside the import form. The upload is not kept
between the two posts: the user chooses the same file again, and the mapping rides along in
the form's fields. Keeping the file server-side would need a store with a lifetime, a cap
and cleanup for a spreadsheet of partners' contacts, to save one click; the browser cannot
refill a file input, and the page says so. The mapping is remembered by the import itself
when the file is applied.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError
from medworks.network.exporting import directory_export_xlsx
from medworks.network.importing import directory_import
from medworks.network.spreadsheet import ColumnsError

from ..access import actor_of, require_capability
from ..forms import add_domain_errors
from ..uploads import mark_skipped_uploads
from .forms import ColumnMappingForm, ImportForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_capability(Capability.DIRECTORY_IMPORT)
def directory_import_page(request: HttpRequest) -> HttpResponse:
    report = None
    mapping: ColumnMappingForm | None = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        mark_skipped_uploads(request, form, limit=settings.MEDWORKS_IMPORT_MAX_BYTES)
        headers = request.POST.getlist("column-headers")
        if headers:  # the mapping form was on the page: keep it, with what was chosen
            mapping = ColumnMappingForm(
                request.POST, headers=headers, fields=ColumnMappingForm.posted_fields(request.POST)
            )
        if form.is_valid() and (mapping is None or mapping.is_valid()):
            upload = form.cleaned_data["file"]
            try:
                report = directory_import(
                    file=upload,
                    filename=upload.name,
                    strict=form.cleaned_data["strict"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=actor_of(request),
                    columns=mapping.columns() if mapping is not None else None,
                )
            except ColumnsError as exc:
                mapping = _mapping_for(exc, posted=mapping)
                if exc.fields and mapping is not None and mapping.is_bound:
                    add_domain_errors(mapping, exc)
                else:
                    form.add_error(None, exc.message)
            except DomainError as exc:
                add_domain_errors(form, exc)
    else:
        form = ImportForm()
    return render(
        request,
        "web/staff/import.html",
        {
            "form": form,
            "mapping": mapping,
            "report": report,
            "max_bytes": settings.MEDWORKS_IMPORT_MAX_BYTES,
        },
    )


def _mapping_for(
    exc: ColumnsError, *, posted: ColumnMappingForm | None
) -> ColumnMappingForm | None:
    """The mapping form to show after the import refused the columns.

    Built on this file's headers; the first time with what the import did read preselected,
    later with what the user chose. None when the file's headers are not known.
    """
    if not exc.headers:
        return posted
    fields = ColumnMappingForm.fields_to_ask(exc.found)
    if posted is None:
        return ColumnMappingForm(headers=exc.headers, fields=fields, initial=exc.found)
    mapping = ColumnMappingForm(posted.data, headers=exc.headers, fields=[*posted.fields, *fields])
    mapping.is_valid()
    return mapping


@require_capability(Capability.DIRECTORY_IMPORT)
def directory_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type=XLSX)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="medworks-directory-{stamp}.xlsx"'
    directory_export_xlsx(out=response)
    return response
