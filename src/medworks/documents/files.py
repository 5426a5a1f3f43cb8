"""What an uploaded file is, decided from its bytes, and the name it may keep.

Accepted: PDF, PNG, JPEG, TIFF and Word (.docx). Each check looks at both ends of the file, so
a truncated upload (a PDF without its %%EOF trailer, a PNG without its IEND chunk, a JPEG
without its end marker) is refused as well as a disguised one (a program or a text file
renamed .pdf). The name the user gave is only kept, cleaned, for the download; the extension
is set to match the detected type.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.core.errors import DomainError

ACCEPTED_LABEL = gettext_lazy("PDF, PNG, JPEG, TIFF or Word (.docx)")
NAME_MAX = 120  # characters of the cleaned name, extension included


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]  # the first is used when the name's own does not fit


PDF = FileType("PDF", "application/pdf", (".pdf",))
PNG = FileType("PNG image", "image/png", (".png",))
JPEG = FileType("JPEG image", "image/jpeg", (".jpg", ".jpeg"))
TIFF = FileType("TIFF image", "image/tiff", (".tif", ".tiff"))
DOCX = FileType(
    "Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
TYPES = (PDF, PNG, JPEG, TIFF, DOCX)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Writers may pad a file's end (whitespace, zeros); the end marker must be within this tail.
TAIL = 1024


def _refuse(code: str, message: str) -> DomainError:
    return DomainError(code, message, fields={"file": [message]})


def _is_pdf(data: bytes) -> bool | None:
    if not data.startswith(b"%PDF-"):
        return None
    return b"%%EOF" in data[-TAIL:]


def _is_png(data: bytes) -> bool | None:
    if not data.startswith(PNG_SIGNATURE):
        return None
    return PNG_IEND in data[-TAIL:] and data[12:16] == b"IHDR"


def _is_jpeg(data: bytes) -> bool | None:
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    return len(data) > 4 and b"\xff\xd9" in data.rstrip(b"\x00\r\n \t")[-2:]


def _is_tiff(data: bytes) -> bool | None:
    if data[:4] == b"II*\x00":
        order = "<"
    elif data[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    if len(data) < 8:
        return False
    # The first image directory must lie inside the file, with its entry count and entries.
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd < 8 or ifd + 2 > len(data):
        return False
    (entries,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    return entries > 0 and ifd + 2 + 12 * entries + 4 <= len(data)


def _is_docx(data: bytes) -> bool | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False  # a zip's directory is at its end: a truncated one does not open
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return True
    return None  # a sound zip, but not a Word document (a spreadsheet, a plain archive)


CHECKS = ((PDF, _is_pdf), (PNG, _is_png), (JPEG, _is_jpeg), (TIFF, _is_tiff), (DOCX, _is_docx))

# One sentence per type: "This PDF is incomplete ...", "This file is named .pdf but is not a PDF".
_TRUNCATED = {
    PDF: gettext_lazy(
        "This PDF is incomplete or damaged (was the upload cut short?). "
        "Save it again and upload the whole file."
    ),
    PNG: gettext_lazy(
        "This PNG image is incomplete or damaged (was the upload cut short?). "
        "Save it again and upload the whole file."
    ),
    JPEG: gettext_lazy(
        "This JPEG image is incomplete or damaged (was the upload cut short?). "
        "Save it again and upload the whole file."
    ),
    TIFF: gettext_lazy(
        "This TIFF image is incomplete or damaged (was the upload cut short?). "
        "Save it again and upload the whole file."
    ),
    DOCX: gettext_lazy(
        "This Word document is incomplete or damaged (was the upload cut short?). "
        "Save it again and upload the whole file."
    ),
}
_MISNAMED = {
    PDF: gettext_lazy(
        "This file is named %(ext)s but is not a PDF: only %(accepted)s files are accepted."
    ),
    PNG: gettext_lazy(
        "This file is named %(ext)s but is not a PNG image: only %(accepted)s files are accepted."
    ),
    JPEG: gettext_lazy(
        "This file is named %(ext)s but is not a JPEG image: only %(accepted)s files are accepted."
    ),
    TIFF: gettext_lazy(
        "This file is named %(ext)s but is not a TIFF image: only %(accepted)s files are accepted."
    ),
    DOCX: gettext_lazy(
        "This file is named %(ext)s but is not a Word document: only %(accepted)s files are "
        "accepted."
    ),
}


def detect(data: bytes, *, filename: str = "") -> FileType:
    """The file's type from its content, or a DomainError (fields {"file": [...]}) saying why
    it is refused."""
    if not data:
        raise _refuse("file_empty", _("The file is empty."))
    for file_type, check in CHECKS:
        verdict = check(data)
        if verdict is True:
            return file_type
        if verdict is False:
            raise _refuse("file_truncated", str(_TRUNCATED[file_type]))
    claimed = _extension(filename)
    named = next((t for t in TYPES if claimed in t.extensions), None)
    if named is not None:
        message = str(_MISNAMED[named]) % {"ext": claimed, "accepted": ACCEPTED_LABEL}
    else:
        message = _("This kind of file is not accepted: upload a %(accepted)s file.") % {
            "accepted": ACCEPTED_LABEL
        }
    raise _refuse("file_type_refused", message)


def _extension(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, ext = base.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


_UNSAFE = re.compile(r'[<>:"|?*\\/]')


def clean_filename(name: str, file_type: FileType) -> str:
    """A safe download name: the last path part only, no control or reserved characters, no
    leading dots, at most NAME_MAX characters, ending with an extension of `file_type`."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[\\/]", text)[-1]  # basename for both / and \ (Windows paths)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # controls, NUL
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip()
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    ext = f".{ext.lower()}"
    if ext not in file_type.extensions:
        stem = text  # keep what looked like an extension as part of the name
        ext = file_type.extensions[0]
    stem = stem.strip(" .") or "document"
    return stem[: NAME_MAX - len(ext)].rstrip(" .") + ext
