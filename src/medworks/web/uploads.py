"""An upload handler that stops keeping a file once it is larger than any page accepts.

Django streams an upload to a temporary file once it passes FILE_UPLOAD_MAX_MEMORY_SIZE, so
a large file never sits in memory; without a cap it would still fill the disk. This handler
goes first in FILE_UPLOAD_HANDLERS: past `upload_cap_bytes()` it skips the file (the rest of
its bytes are read and dropped, nothing is written) and marks the request, so the form can say
the file is too large instead of "this field is required". The proxy in front (nginx's
client_max_body_size) should refuse such bodies before they reach Django at all.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _

# Slack over the largest accepted file: multipart framing, and the pages' own exact checks.
_SLACK = 64 * 1024


def upload_cap_bytes() -> int:
    return (
        max(
            getattr(settings, "MEDWORKS_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024),
            getattr(settings, "MEDWORKS_IMPORT_MAX_BYTES", 20 * 1024 * 1024),
        )
        + _SLACK
    )


class SizeCappedUploadHandler(FileUploadHandler):
    """Passes chunks on to the next handler until the file passes the cap, then skips it."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_cap_bytes():
            too_large = getattr(self.request, "uploads_too_large", [])
            too_large.append(self.field_name)
            self.request.uploads_too_large = too_large
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the file


def too_large_message(limit: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return _("This file is larger than %(limit)s, the largest accepted.") % {
        "limit": filesizeformat(limit)
    }


def mark_skipped_uploads(request, form, *, limit: int | None = None) -> None:
    """Put "too large" on the file fields whose upload the handler skipped.

    `limit` is the page's own limit, for the message (documents' by default).
    """
    if limit is None:
        limit = getattr(settings, "MEDWORKS_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)
    for name in getattr(request, "uploads_too_large", []):
        field = name.removeprefix(f"{form.prefix}-") if form.prefix else name
        if field in form.fields:
            form.errors.pop(field, None)
            form.add_error(field, too_large_message(limit))
