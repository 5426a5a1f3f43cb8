"""The type of an upload is decided by its bytes; its name is cleaned. No database needed."""

from __future__ import annotations

import pytest

from medworks.core.errors import DomainError
from medworks.documents.files import DOCX, JPEG, PDF, PNG, TIFF, clean_filename, detect

from . import samples


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.pdf(), PDF),
        (samples.png(), PNG),
        (samples.jpeg(), JPEG),
        (samples.tiff("II"), TIFF),
        (samples.tiff("MM"), TIFF),
        (samples.docx(), DOCX),
    ],
    ids=["pdf", "png", "jpeg", "tiff-little-endian", "tiff-big-endian", "docx"],
)
def test_each_accepted_kind_is_recognised_from_its_content_whatever_its_name(data, expected):
    assert detect(data, filename="upload.bin") is expected
    assert detect(data, filename="") is expected


def _refusal(data: bytes, filename: str = "x.pdf") -> DomainError:
    with pytest.raises(DomainError) as caught:
        detect(data, filename=filename)
    assert list(caught.value.fields) == ["file"], "the form shows it next to the file field"
    return caught.value


def test_an_empty_file_is_refused():
    error = _refusal(b"")
    assert error.code == "file_empty"
    assert error.fields["file"] == ["The file is empty."]


def test_a_text_file_renamed_pdf_is_refused_saying_it_is_not_a_pdf():
    error = _refusal(b"Dear clinic, please see attached.\n", "form.pdf")
    assert error.code == "file_type_refused"
    assert "named .pdf but is not a PDF" in error.message


def test_a_windows_program_renamed_pdf_is_refused():
    error = _refusal(samples.windows_program(), "invoice.PDF")
    assert error.code == "file_type_refused"
    assert "not a PDF" in error.message


def test_an_unknown_kind_under_its_own_name_is_refused_listing_what_is_accepted():
    error = _refusal(b"GIF89a\x01\x00\x01\x00", "photo.gif")
    assert error.code == "file_type_refused"
    assert "PDF, PNG, JPEG, TIFF or Word (.docx)" in error.message


def test_a_zip_that_is_not_a_word_document_is_refused():
    assert _refusal(samples.plain_zip(), "form.docx").code == "file_type_refused"


@pytest.mark.parametrize(
    "data",
    [
        samples.pdf()[:-40],  # lost its startxref and %%EOF
        samples.png()[:-12],  # lost its IEND chunk
        samples.jpeg()[:-2],  # lost its end-of-image marker
        samples.tiff()[:10],  # its directory points past the end
        samples.docx()[:-30],  # a zip's directory is at its end
    ],
    ids=["pdf", "png", "jpeg", "tiff", "docx"],
)
def test_a_truncated_file_is_refused_as_incomplete(data):
    error = _refusal(data)
    assert error.code == "file_truncated"
    assert "incomplete or damaged" in error.message


def test_a_pdf_header_with_nothing_after_it_is_truncated_not_a_pdf():
    assert _refusal(b"%PDF-1.7\n").code == "file_truncated"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("..\\win.pdf", "win.pdf"),
        ("C:\\Users\\ann\\Desktop\\GOP final.pdf", "GOP final.pdf"),
        ("report\r\n.pdf", "report.pdf"),
        ("Form\u202egnp.pdf", "Formgnp.pdf"),  # a right-to-left override would disguise it
        ("...", "document.pdf"),
        ("", "document.pdf"),
        ("  .hidden.pdf", "hidden.pdf"),
        ('what?<is>"this"|.pdf', "what__is__this__.pdf"),
        ("REPORT.PDF", "REPORT.pdf"),
    ],
)
def test_a_name_keeps_only_its_last_part_without_control_or_reserved_characters(given, expected):
    assert clean_filename(given, PDF) == expected


def test_the_extension_follows_the_detected_type_not_the_given_name():
    assert clean_filename("scan.pdf", PNG) == "scan.pdf.png"
    assert clean_filename("setup.exe", PDF) == "setup.exe.pdf"
    assert clean_filename("photo.jpeg", JPEG) == "photo.jpeg"
    assert clean_filename("photo", JPEG) == "photo.jpg"


def test_a_long_name_is_cut_but_keeps_its_extension():
    name = clean_filename("a" * 500 + ".pdf", PDF)
    assert len(name) == 120
    assert name.endswith("a.pdf")
