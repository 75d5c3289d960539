"""Tests for services.extraction: real resumes and broken PDFs from /work/shared/realdata,
plus DOCX, text and hostile inputs built here. No fixtures, no database."""
from __future__ import annotations

import io
import os
import pickle
import random
import re
import shutil
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml

from services.extraction import (
    ExtractedText,
    ExtractionFailed,
    FailureReason,
    FileKind,
    count_words,
    detect_kind,
    extract_text,
)

REALDATA = Path(os.environ.get("APPLYTRACK_REALDATA", "/work/shared/realdata"))
RESUMES = REALDATA / "resumes"
BADPDFS = REALDATA / "badpdfs"
SCANNED = "derived_rasterized_alfred_pennyworth_2pp.pdf"
TWO_PAGE_RESUME = "rm_latex_plain_john_doe.pdf"

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(),
    reason=f"real test inputs not found at {REALDATA} (set APPLYTRACK_REALDATA)",
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("wc") is None,
    reason="pdftotext (poppler-utils) and wc are needed for the reference word counts",
)

R = FailureReason
# What every file in badpdfs/ must give: a failure reason, or the kind of document
# whose text comes out. A change of classification must be a conscious edit here.
EXPECTED_BADPDF: dict[str, FailureReason | FileKind] = {
    # A real DOCX renamed .pdf: we go by the bytes, so it is read as the Word file it is.
    "derived_docx_renamed.pdf": FileKind.DOCX,
    "derived_png_renamed.pdf": R.UNSUPPORTED_TYPE,
    # First 60 % of a resume: no xref/trailer; pdfminer does not recover it (nor does poppler).
    "derived_truncated_resume_60pct.pdf": R.CORRUPT,
    "derived_zero_pages_valid.pdf": R.ZERO_PAGES,
    "ocrmypdf_enormous_page.pdf": R.NO_TEXT_LAYER,  # one huge image, no text
    "ocrmypdf_font_no_unicode_map.pdf": R.NO_TEXT_LAYER,  # shows "Phone", extracts '"7+%-'
    "ocrmypdf_header_then_eof.pdf": R.CORRUPT,
    "ocrmypdf_hugemono_35000px_jbig2.pdf": R.NO_TEXT_LAYER,  # image only
    "ocrmypdf_page_without_contents.pdf": R.NO_TEXT_LAYER,  # blank page
    "ocrmypdf_scan_2400dpi.pdf": R.NO_TEXT_LAYER,
    "ocrmypdf_text_as_vector_curves.pdf": R.NO_TEXT_LAYER,
    "ocrmypdf_xfa_livecycle.pdf": R.NO_TEXT_LAYER,  # XFA form: the page itself is empty
    "pdfjs_bad_dict_keys.pdf": R.CORRUPT,
    # The "bomb" is three JBIG2 streams concatenated as page content; the real text
    # object before them is extracted (poppler gives up on the page instead).
    "pdfjs_bomb_giant.pdf": FileKind.PDF,
    "pdfjs_helloworld_bad_objects.pdf": FileKind.PDF,  # "Hello, world!"
    "pdfjs_no_trailer_bad_count.pdf": R.CORRUPT,
    # Owner password only: opens without a password, but its single page is empty.
    "pdfjs_owner_password_only_aes256.pdf": R.NO_TEXT_LAYER,
    "pdfjs_poppler_circular_xref.pdf": FileKind.PDF,  # "foobar" survives the loop
    # /Count 9999999999 and /Count 213804087 over one real page: broken page trees.
    "pdfjs_poppler_negative_page_count.pdf": R.CORRUPT,
    "pdfjs_poppler_page_count_213M.pdf": R.CORRUPT,
    "pdfjs_redhat_bogus_xref_W.pdf": R.CORRUPT,  # no readable catalog / page tree
    "pdfjs_user_password_issue3371.pdf": R.ENCRYPTED,
    "pdfjs_xref_keyword_missing.pdf": FileKind.PDF,  # "Reduced test-case"
    "pdfminer_aes256_r6_user_usersecret.pdf": R.ENCRYPTED,
    "pdfminer_circular_form_xobjects.pdf": FileKind.PDF,  # "Hello world" twice, no loop
    # Encrypted (owner password only), decrypts fine, but has no text: one image page.
    "pdfminer_encrypted_no_trailer_id.pdf": R.NO_TEXT_LAYER,
    "pdfminer_rc4_40_user_foo.pdf": R.ENCRYPTED,
    "pdfminer_zlib_corrupted.pdf": FileKind.PDF,  # pdfminer salvages all 152 words
    "plumber_empty_0bytes.pdf": R.CORRUPT,
    # Chinese text drawn without a Unicode map; only the date "2021 3 31" extracts.
    "plumber_malformed_issue932.pdf": R.NO_TEXT_LAYER,
    "plumber_password_user_test.pdf": R.ENCRYPTED,
}
EXPECTED_BADPDF_TEXT = {
    "pdfjs_bomb_giant.pdf": "GIANT JBIG2 BOMB\n100000x100000 = 1.16GB each",
    "pdfjs_helloworld_bad_objects.pdf": "Hello, world!",
    "pdfjs_poppler_circular_xref.pdf": "foobar",
    "pdfjs_xref_keyword_missing.pdf": "Reduced test-case",
    "pdfminer_circular_form_xobjects.pdf": "Hello world\nHello world",
}
# Generous: every file takes under 0.6 s on a laptop; this only catches hangs.
MAX_SECONDS_PER_FILE = 5.0


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _fails(data: bytes, **limits: int) -> ExtractionFailed:
    with pytest.raises(ExtractionFailed) as info:
        extract_text(data, **limits)
    assert info.value.message.strip(), "every failure needs a message for the user"
    return info.value


def _assert_storable(result: ExtractedText) -> None:
    """Text fit for PostgreSQL TEXT and for search, with a consistent word count."""
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", result.text)
    assert "\n\n\n" not in result.text
    assert result.text == result.text.strip()
    result.text.encode("utf-8")  # no lone surrogates
    assert result.word_count == count_words(result.text) > 0
    assert result.page_count >= 1


def _pdftotext_wc(path: Path) -> int:
    """The reference: `pdftotext FILE - | wc -w`."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    return int(subprocess.run(["wc", "-w"], input=text, capture_output=True, check=True).stdout)


# ----------------------------------------------------------------------- real resumes


@needs_realdata
@needs_pdftotext
@pytest.mark.parametrize("name", [n for n in _files(RESUMES) if n != SCANNED])
def test_resume_word_count_within_3_percent_of_pdftotext(name: str) -> None:
    path = RESUMES / name
    result = extract_text(path.read_bytes())
    reference = _pdftotext_wc(path)

    assert result.kind is FileKind.PDF
    _assert_storable(result)
    assert abs(result.word_count - reference) <= 0.03 * reference, (
        f"{name}: {result.word_count} words, pdftotext says {reference}"
    )


@needs_realdata
def test_scanned_resume_has_no_text_layer() -> None:
    failure = _fails((RESUMES / SCANNED).read_bytes())
    assert failure.reason is R.NO_TEXT_LAYER
    assert "scan" in failure.message


@needs_realdata
def test_pages_are_joined_with_a_blank_line() -> None:
    result = extract_text((RESUMES / TWO_PAGE_RESUME).read_bytes())
    assert result.page_count == 2
    assert "\n\n" in result.text


@needs_realdata
def test_too_many_pages_is_checked() -> None:
    failure = _fails((RESUMES / TWO_PAGE_RESUME).read_bytes(), max_pages=1)
    assert failure.reason is R.TOO_MANY_PAGES
    assert "2 pages" in failure.message and "at most 1" in failure.message
    assert extract_text((RESUMES / TWO_PAGE_RESUME).read_bytes(), max_pages=2).page_count == 2


@needs_realdata
def test_too_large_is_checked_before_parsing() -> None:
    data = (RESUMES / TWO_PAGE_RESUME).read_bytes()
    failure = _fails(data, max_bytes=len(data) - 1)
    assert failure.reason is R.TOO_LARGE
    assert extract_text(data, max_bytes=len(data)).kind is FileKind.PDF


# ------------------------------------------------------------------------ broken PDFs


@needs_realdata
def test_every_badpdf_has_an_expected_outcome() -> None:
    assert set(_files(BADPDFS)) == set(EXPECTED_BADPDF)


@needs_realdata
@pytest.mark.parametrize("name", _files(BADPDFS))
def test_badpdf_is_classified(name: str) -> None:
    data = (BADPDFS / name).read_bytes()
    expected = EXPECTED_BADPDF[name]

    started = time.monotonic()
    try:
        outcome: FailureReason | FileKind = extract_text(data).kind
    except ExtractionFailed as failure:
        assert failure.message.strip()
        outcome = failure.reason
    elapsed = time.monotonic() - started

    assert outcome is expected
    assert elapsed < MAX_SECONDS_PER_FILE, f"{name} took {elapsed:.1f} s"
    if name in EXPECTED_BADPDF_TEXT:
        assert extract_text(data).text == EXPECTED_BADPDF_TEXT[name]


@needs_realdata
def test_docx_renamed_pdf_is_read_as_docx() -> None:
    data = (BADPDFS / "derived_docx_renamed.pdf").read_bytes()
    assert detect_kind(data) is FileKind.DOCX
    result = extract_text(data)
    _assert_storable(result)
    assert result.page_count == 2  # <Pages>2</Pages> in docProps/app.xml
    assert result.text.startswith("Data Scientist/ ML Engineer\nGame Change Solutions")
    # The same posting, converted to text independently, has the same number of words.
    job = REALDATA / "jobs" / "indeed2020_data_scientist.txt"
    if job.exists():
        assert result.word_count == count_words(job.read_text(encoding="utf-8"))


@needs_realdata
def test_pdf_failure_messages_are_specific() -> None:
    def message(name: str) -> str:
        return _fails((BADPDFS / name).read_bytes()).message

    assert "password" in message("plumber_password_user_test.pdf")
    assert "empty" in message("plumber_empty_0bytes.pdf")
    assert "image (PNG)" in message("derived_png_renamed.pdf")
    assert "shapes" in message("ocrmypdf_text_as_vector_curves.pdf")
    assert "fonts" in message("ocrmypdf_font_no_unicode_map.pdf")
    assert "blank" in message("ocrmypdf_page_without_contents.pdf")
    assert "damaged" in message("derived_truncated_resume_60pct.pdf")


# ---------------------------------------------------------------- PDFs built in tests


def _build_pdf(*page_streams: bytes, flate: bool = False) -> bytes:
    """A minimal, valid PDF: one page per content stream, Helvetica as /F1."""
    n = len(page_streams)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, stream in enumerate(page_streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i)
        )
        header = b"<< /Length %d%s >>" % (len(stream), b" /Filter /FlateDecode" if flate else b"")
        objects.append(header + b"\nstream\n" + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _text_stream(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"


def test_built_pdf_pages_are_extracted_in_order() -> None:
    data = _build_pdf(
        _text_stream("Jane Doe, Python developer"), _text_stream("References on request")
    )
    result = extract_text(data)
    assert result == ExtractedText(
        FileKind.PDF, "Jane Doe, Python developer\n\nReferences on request", 2, 7
    )


def test_pdf_with_only_digits_has_no_text_layer() -> None:
    failure = _fails(_build_pdf(_text_stream("2021 3 31")))
    assert failure.reason is R.NO_TEXT_LAYER


def test_pdf_flate_bomb_is_refused_before_inflating() -> None:
    # 100 MB of spaces (valid, empty page content) compress to ~100 KB.
    deflater = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    stream = b"".join(deflater.compress(chunk) for _ in range(100)) + deflater.flush()
    data = _build_pdf(stream, flate=True)
    assert len(data) < 200_000

    failure = _fails(data)
    assert failure.reason is R.TOO_LARGE


# ------------------------------------------------------------------------------- DOCX


def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_MC_NS = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'


def _sample_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "jane.doe@example.com"
    document.add_heading("Jane Doe", level=1)
    document.add_paragraph("Senior Python developer with 8 years of experience.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Skill"
    table.cell(0, 1).text = "Level"
    table.cell(1, 0).text = "PostgreSQL"
    table.cell(1, 1).text = "Expert"
    # Text inside a content control, which python-docx's Paragraph.text does not see.
    paragraph = document.add_paragraph("Location: ")
    paragraph._p.append(
        parse_xml(
            f"<w:sdt {_W_NS}><w:sdtContent><w:r><w:t>Lisbon</w:t></w:r></w:sdtContent></w:sdt>"
        )
    )
    # A text box stored twice (DrawingML choice + VML fallback) must be read once.
    box = (
        f"<w:txbxContent {_W_NS}><w:p><w:r><w:t>Open to relocation</w:t></w:r></w:p>"
        "</w:txbxContent>"
    )
    document.add_paragraph()._p.append(
        parse_xml(
            f"<w:r {_W_NS} {_MC_NS}><mc:AlternateContent>"
            f"<mc:Choice Requires=\"wps\">{box}</mc:Choice>"
            f"<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r>"
        )
    )
    document.add_paragraph("References available on request.")
    return _docx_bytes(document)


def test_docx_paragraphs_tables_and_boxes_in_document_order() -> None:
    result = extract_text(_sample_docx())

    assert result.kind is FileKind.DOCX
    assert result.page_count == 1
    _assert_storable(result)
    assert result.text == (
        "jane.doe@example.com\n"
        "Jane Doe\n"
        "Senior Python developer with 8 years of experience.\n"
        "Skill\tLevel\n"
        "PostgreSQL\tExpert\n"
        "Location: Lisbon\n"
        "\n"
        "Open to relocation\n"
        "References available on request."
    )


def _rewrite_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
    return out.getvalue()


def test_docx_page_count_comes_from_app_xml() -> None:
    with zipfile.ZipFile(io.BytesIO(_sample_docx())) as archive:
        app = archive.read("docProps/app.xml")
    app = re.sub(rb"<Pages>\d+", b"<Pages>3", app)
    three = _rewrite_zip(_sample_docx(), {"docProps/app.xml": app})
    assert extract_text(three).page_count == 3

    failure = _fails(three, max_pages=2)
    assert failure.reason is R.TOO_MANY_PAGES


def _zip_with_zeros(megabytes: int) -> bytes:
    """A zip whose word/document.xml inflates to `megabytes` MB, written in 1 MB steps."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w") as handle:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                handle.write(chunk)
    return out.getvalue()


def test_docx_zip_bomb_is_refused() -> None:
    bomb = _zip_with_zeros(200)
    assert len(bomb) < 1024 * 1024
    assert detect_kind(bomb) is FileKind.DOCX

    failure = _fails(bomb)
    assert failure.reason is R.TOO_LARGE


def test_docx_absurd_compression_ratio_is_refused_below_the_size_cap() -> None:
    failure = _fails(_zip_with_zeros(20))  # 20 MB < 50 MB, but ~1000:1
    assert failure.reason is R.TOO_LARGE


def test_zip_without_word_document_is_unsupported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "Jane Doe resume")
    assert detect_kind(out.getvalue()) is None
    assert _fails(out.getvalue()).reason is R.UNSUPPORTED_TYPE


def test_truncated_docx_is_corrupt() -> None:
    data = _sample_docx()
    truncated = data[: len(data) * 2 // 3]
    assert detect_kind(truncated) is FileKind.DOCX
    assert _fails(truncated).reason is R.CORRUPT


def _ole(*stream_names: str) -> bytes:
    # The parts of a compound file the module looks at: the magic and UTF-16LE names.
    names = b"".join(name.encode("utf-16-le").ljust(64, b"\0") for name in stream_names)
    return bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504) + names + bytes(1024)


def test_password_protected_docx_is_encrypted() -> None:
    data = _ole("EncryptionInfo", "EncryptedPackage")
    assert detect_kind(data) is FileKind.DOCX  # so the upload is accepted and explained
    failure = _fails(data)
    assert failure.reason is R.ENCRYPTED
    assert "password" in failure.message


def test_legacy_doc_is_unsupported_with_a_hint() -> None:
    data = _ole("WordDocument")
    assert detect_kind(data) is None
    failure = _fails(data)
    assert failure.reason is R.UNSUPPORTED_TYPE
    assert ".docx" in failure.message


def test_docx_without_text_has_no_text_layer() -> None:
    failure = _fails(_docx_bytes(docx.Document()))
    assert failure.reason is R.NO_TEXT_LAYER


# ------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "data",
    [
        "Zoë Müller — Ingénieure\nPython, SQL".encode("utf-8"),
        "\ufeffZoë Müller — Ingénieure\nPython, SQL".encode("utf-8"),
        "\ufeffZoë Müller — Ingénieure\nPython, SQL".encode("utf-16-le"),
        "\ufeffZoë Müller — Ingénieure\nPython, SQL".encode("utf-16-be"),
        "Zoë Müller — Ingénieure\nPython, SQL".encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "cp1252"],
)
def test_text_encodings(data: bytes) -> None:
    assert detect_kind(data) is FileKind.TEXT
    expected = ExtractedText(FileKind.TEXT, "Zoë Müller — Ingénieure\nPython, SQL", 1, 6)
    assert extract_text(data) == expected


def test_latin1_fallback_for_bytes_cp1252_leaves_undefined() -> None:
    # 0x81 is undefined in cp1252: decoded as latin-1, the stray C1 control is dropped.
    data = "Señor José\x81 Café".encode("latin-1")
    assert extract_text(data).text == "Señor José Café"


def test_nul_and_control_characters_are_stripped() -> None:
    # A couple of stray control bytes in otherwise normal text (under the 1 % that
    # separates text from binary) are dropped; form feeds become line breaks.
    body = "Jane Doe\x00 is a Python\x07 developer.\r\nShe likes SQL.\x0cPage two. " + (
        "Experienced with PostgreSQL, Flask and Celery. " * 10
    )
    result = extract_text(body.encode("utf-8"))
    _assert_storable(result)
    assert "\x00" not in result.text and "\x07" not in result.text and "\r" not in result.text
    assert result.text.startswith("Jane Doe is a Python developer.\nShe likes SQL.\nPage two.")


def test_blank_lines_and_trailing_spaces_are_collapsed() -> None:
    result = extract_text(b"Jane Doe   \r\n\r\n\r\n\r\n\n  \nPython\t\n\n\nSQL")
    assert result.text == "Jane Doe\n\nPython\n\nSQL"


def test_empty_file() -> None:
    failure = _fails(b"")
    assert failure.reason is R.CORRUPT
    assert "empty" in failure.message
    assert detect_kind(b"") is None


def test_whitespace_only_text_is_empty() -> None:
    failure = _fails(b" \n\t\r\n ")
    assert failure.reason is R.CORRUPT
    assert "empty" in failure.message


def test_png_bytes_are_unsupported() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(13) + b"IHDR" + bytes(64)
    assert detect_kind(png) is None
    failure = _fails(png)
    assert failure.reason is R.UNSUPPORTED_TYPE
    assert "image (PNG)" in failure.message


@pytest.mark.parametrize(
    "data",
    [
        random.Random(7).randbytes(4096),  # binary junk
        "plain ASCII resume".encode("utf-16-le"),  # UTF-16 without BOM: half NULs
        b"{\\rtf1\\ansi Jane Doe}",  # RTF: text, but markup; ask for DOCX/PDF
        b"\x00\x01\x02\x03 not text",
    ],
    ids=["random", "utf16-no-bom", "rtf", "controls"],
)
def test_not_text(data: bytes) -> None:
    assert detect_kind(data) is None
    assert _fails(data).reason is R.UNSUPPORTED_TYPE


# ----------------------------------------------------------------- detection & basics


@needs_realdata
def test_detect_kind_on_each_kind() -> None:
    assert detect_kind((RESUMES / TWO_PAGE_RESUME).read_bytes()) is FileKind.PDF
    assert detect_kind(_sample_docx()) is FileKind.DOCX
    assert detect_kind("Jane Doe\nPython developer\n".encode()) is FileKind.TEXT
    assert detect_kind((BADPDFS / "derived_png_renamed.pdf").read_bytes()) is None
    assert detect_kind((BADPDFS / "derived_docx_renamed.pdf").read_bytes()) is FileKind.DOCX
    # A PDF header is only a claim: detection says PDF, extraction finds it broken.
    assert detect_kind((BADPDFS / "ocrmypdf_header_then_eof.pdf").read_bytes()) is FileKind.PDF


def test_count_words_matches_wc() -> None:
    sample = "  Jane  Doe\tPython,SQL \n\n  senior-level  developer\f"
    assert count_words(sample) == 5
    assert count_words("") == 0
    if shutil.which("wc"):
        wc = subprocess.run(["wc", "-w"], input=sample.encode(), capture_output=True, check=True)
        assert int(wc.stdout) == count_words(sample)


def test_extraction_failed_survives_pickling() -> None:
    failure = pickle.loads(pickle.dumps(ExtractionFailed(R.ENCRYPTED, "Remove the password.")))
    assert failure.reason is R.ENCRYPTED
    assert failure.message == str(failure) == "Remove the password."


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        extract_text(b"Jane", max_pages=0)


# --- two-column pages (services/pdf_columns.py) ------------------------------------------------------

@needs_realdata
@pytest.mark.parametrize(("name", "whole_line", "merged"), [
    # A skills sidebar to the right of the main column: each was glued to a summary line.
    ("rm_chromium_modern_two_column.pdf", "Senior Software Engineer with 5+ years of proven expertise designing",
     "optimizing database SKILLS"),
    # An education sidebar to the left of the experience column (LaTeX Deedy).
    ("ocv_latex_deedy_two_column.pdf", "• Led and shipped Yoda - the admin interface for the new Phoenix platform.",
     "May 2014 | Ithaca, NY • Led"),
    ("ocv_weasyprint_two_column.pdf", "cutting p99 latency by 42% and infrastructure cost by 28%.",
     "Springfield, IL cutting p99"),
    ("ocv_chromium_two_column_sidebar_2pp.pdf",
     "Engineering leader with experience managing large cross-functional, cross-site teams to",
     "cross-site teams to Leadership"),
])
def test_a_two_column_resume_is_read_column_by_column(name: str, whole_line: str, merged: str) -> None:
    """A sidebar's lines are not glued to the main column's: the analysis would quote them."""
    lines = extract_text((RESUMES / name).read_bytes()).text.splitlines()
    assert whole_line in lines
    assert not any(merged in line for line in lines)


@needs_realdata
def test_a_column_of_dates_stays_beside_the_entries_it_dates() -> None:
    """moderncv prints each job's dates in a narrow left column: not a column to read apart."""
    lines = extract_text((RESUMES / "rm_latex_moderncv_alfred_pennyworth_pm.pdf").read_bytes()).text.splitlines()
    assert "2017 – Product Manager, Google, Mountain View, CA, USA" in lines


def _word(text: str, x0: float, top: float, width: float = 40.0, height: float = 10.0) -> dict:
    return {"text": text, "x0": x0, "x1": x0 + width, "top": top, "bottom": top + height}


def test_columns_are_found_below_a_full_width_header_and_a_one_column_page_has_none() -> None:
    from services.pdf_columns import find_columns

    header = [_word("Jane Smith, jane@example.com, +1 555 0100, Springfield", 50, 20, width=500)]
    left = [_word(f"skill{i}", 50, 100 + 14 * i) for i in range(20)]
    right = [_word(f"word{i}{j}", 250 + 45 * j, 100 + 14 * i) for i in range(30) for j in range(6)]
    columns = find_columns(header + left + right, 612, 792)
    assert columns is not None and 90 < columns.gutter < 250 and columns.header_bottom == 30

    one_column = [_word(f"word{i}{j}", 50 + 45 * j, 100 + 14 * i) for i in range(40) for j in range(11)]
    assert find_columns(one_column, 612, 792) is None
    dates = [_word("2019", 50, 100 + 40 * i, width=20) for i in range(12)] + right
    assert find_columns(dates, 612, 792) is None
    # Text a crafted PDF puts at infinite or NaN coordinates: no search, no crash.
    for bad in (float("inf"), float("nan")):
        assert find_columns(header + left + right + [_word("odd", bad, 100)], 612, 792) is None
