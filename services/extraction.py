"""Turn the bytes of an uploaded resume (PDF, DOCX or plain text) into plain text.

Pure functions: no Flask, no database, no files on disk, no network.

What this module guarantees
---------------------------
* ``extract_text`` either returns an :class:`ExtractedText` or raises
  :class:`ExtractionFailed`, whatever the bytes are. Parser errors of every kind
  (including ``MemoryError`` and ``RecursionError`` raised by a parser) are mapped to a
  :class:`FailureReason` whose ``message`` tells a job seeker what to do next.
* The type of a file is decided from its bytes only (:func:`detect_kind`), never from
  its name or declared content type. ``detect_kind`` is cheap enough for a web request.
* Returned text is storable in a PostgreSQL ``TEXT`` column and pleasant to search: no
  NUL or other C0 control characters except ``\\n`` and ``\\t``, no lone surrogates,
  ``\\r\\n`` and ``\\r`` normalised to ``\\n``, NFC-normalised, trailing spaces removed
  and runs of blank lines collapsed to one.
* ``word_count`` is ``count_words(text)``: whitespace-separated tokens, the rule of
  ``wc -w``. For PDFs with a text layer it stays within a few percent of
  ``pdftotext FILE - | wc -w``.
* Memory is bounded before the expensive parsing starts: input over ``max_bytes`` is
  refused; a DOCX is refused if its zip entries would expand past 50 MB or expand
  absurdly (zip bomb); a PDF is refused if the content, font and form streams of its
  pages would make pdfminer inflate more than 64 MB (Flate bomb). The page count is
  checked against ``max_pages`` before any page's content is read, and pages are never
  rendered to images.

What it does not guarantee
--------------------------
* CPU time. Ordinary resumes take well under a second, but a hostile PDF page can keep
  pdfminer busy for tens of seconds. Run ``extract_text`` in a worker with a time
  limit (Celery ``soft_time_limit``), not in the web request.
* Streams pdfminer inflates while *opening* a PDF (cross-reference and object streams)
  and LZW/RunLength-compressed streams are not covered by the 64 MB budget; the worker's
  memory limit is the backstop for those.
"""

from __future__ import annotations

import codecs
import enum
import io
import itertools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import docx
import pdfplumber
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFObjRef, PDFStream, resolve1
from pdfminer.psparser import LIT

from services.pdf_columns import page_text

__all__ = [
    "ExtractedText",
    "ExtractionFailed",
    "FailureReason",
    "FileKind",
    "count_words",
    "detect_kind",
    "extract_text",
]


class FileKind(str, enum.Enum):
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "text"


class FailureReason(str, enum.Enum):
    ENCRYPTED = "encrypted"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
    ZERO_PAGES = "zero_pages"
    NO_TEXT_LAYER = "no_text_layer"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class ExtractedText:
    kind: FileKind
    text: str
    page_count: int
    word_count: int


class ExtractionFailed(Exception):
    """The file cannot be turned into text; ``message`` says what the user can do."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        # Both values go to Exception.args so the exception survives pickling (Celery
        # result backends, multiprocessing) with its reason intact.
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- limits

_MIB = 1024 * 1024
# A DOCX is a zip: its parts are inflated into memory by python-docx/lxml, so the
# declared uncompressed total is what costs memory, not the upload size.
_DOCX_MAX_UNCOMPRESSED = 50 * _MIB
# XML in real .docx files compresses 5-20x; images hardly at all. Past 200x on a big
# entry it is a crafted bomb. Small entries may legitimately compress very well.
_DOCX_MAX_RATIO = 200
_DOCX_RATIO_MIN_SIZE = 1 * _MIB
# Everything pdfminer inflates to read the text of the accepted pages (content
# streams, forms, embedded fonts, CMaps). The real resumes need 0.07-0.83 MB; a fully
# embedded CJK font adds up to ~20 MB, which still fits.
_PDF_MAX_INFLATED = 64 * _MIB
# Guards the walk over the page object graph against absurdly large graphs.
_PDF_MAX_GRAPH_NODES = 100_000
# Acrobat accepts a PDF header anywhere in the first 1024 bytes (e.g. behind a
# MacBinary or HTTP header), so we do too.
_PDF_HEADER_WINDOW = 1024

# pdfplumber's default x_tolerance=3 (points) glues words set with tight spacing
# (Deedy LaTeX: 124 words instead of 523). x_tolerance=1 fixes that but splits
# letter-spaced 55 pt headings into single letters (Word/Quartz: +9 % words). A
# tolerance proportional to the font size works for both: on the real resumes, ratios
# from 0.10 (below which WeasyPrint's kerning splits words) to 0.18 (above which Deedy
# glues again) stay within 2 % of pdftotext; 0.13 sits in the middle of that range.
_X_TOLERANCE_RATIO = 0.13

# ------------------------------------------------------------------------ detection

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_PDF_MAGIC = b"%PDF-"
_DOCX_MAIN_PART = "word/document.xml"
_IMAGE_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)

# Control bytes that never occur in real text (everything in C0 except \t \n \v \f \r,
# plus DEL). Binary data is ~10 % such bytes; text at most a stray few.
_JUNK_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_MAX_JUNK_RATIO = 0.01
# Latin-1/cp1252 prose is a few percent accented letters; random binary is 50 % high.
_MAX_HIGH_BYTE_RATIO = 0.30
_JUNK_CHARS_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def detect_kind(data: bytes) -> FileKind | None:
    """Say what the bytes are: PDF, DOCX, plain text, or ``None`` for anything else.

    Only looks at the bytes (magic numbers, zip directory, decodability as text).
    A password-protected Word file (an OLE container holding an encrypted OOXML
    package) is reported as DOCX, so that ``extract_text`` can tell the user to remove
    the password instead of calling the upload an unsupported type.
    """
    if not data:
        return None
    if data.startswith(_ZIP_MAGICS):
        return FileKind.DOCX if _zip_is_docx(data) else None
    if data.startswith(_OLE_MAGIC):
        return FileKind.DOCX if _is_encrypted_ooxml(data) else None
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return FileKind.PDF
    if _image_format(data) is not None or data.startswith(b"{\\rtf"):
        # RTF is ASCII, but its markup would drown the words; ask for DOCX/PDF instead.
        return None
    return FileKind.TEXT if _decode_text(data) is not None else None


def count_words(text: str) -> int:
    """Number of whitespace-separated tokens, as ``wc -w`` counts them."""
    return len(text.split())


def extract_text(
    data: bytes, *, max_pages: int = 20, max_bytes: int = 5 * 1024 * 1024
) -> ExtractedText:
    """Extract the text of a resume given as bytes.

    Raises ExtractionFailed (and nothing else for any content of ``data``); raises
    ValueError only for non-positive limits, which is a programming error.
    """
    if max_pages < 1 or max_bytes < 1:
        raise ValueError("max_pages and max_bytes must be positive")
    if len(data) > max_bytes:
        _fail(
            FailureReason.TOO_LARGE,
            f"This file is {_human_size(len(data))}; the limit is {_human_size(max_bytes)}. "
            "Export a smaller version (for example without large photos) and upload it again.",
        )
    if not data:
        _fail(
            FailureReason.CORRUPT,
            "The file is empty (0 bytes). Check that you picked the right file and upload "
            "it again.",
        )
    kind = detect_kind(data)
    if kind is FileKind.PDF:
        return _extract_pdf(data, max_pages)
    if kind is FileKind.DOCX:
        return _extract_docx(data, max_pages)
    if kind is FileKind.TEXT:
        return _extract_plain_text(data)
    _fail(FailureReason.UNSUPPORTED_TYPE, _unsupported_message(data))


# ---------------------------------------------------------------------------- shared


def _fail(reason: FailureReason, message: str) -> NoReturn:
    raise ExtractionFailed(reason, message)


def _human_size(size: int) -> str:
    if size >= _MIB:
        return f"{size / _MIB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


# pdfminer writes "(cid:123)" for glyphs it cannot map to Unicode: noise, not text.
_CID_RE = re.compile(r"\(cid:\d+\)")
# Line/page separators become newlines so the words on either side stay apart.
_TO_NEWLINE_RE = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
# Other C0 controls (NUL included), DEL, C1 controls (stray bytes decoded as latin-1),
# lone surrogates (psycopg2 cannot encode them) and stray byte-order marks carry
# nothing a reader could see.
_DROP_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff]")
_TRAILING_SPACE_RE = re.compile(r"[ \t\u00a0]+\n")
_BLANK_RUN_RE = re.compile(r"\n{3,}")


def _clean_text(text: str) -> str:
    text = _TO_NEWLINE_RE.sub("\n", text)
    text = _DROP_RE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE_RE.sub("\n", text + "\n")
    return _BLANK_RUN_RE.sub("\n\n", text).strip()


# ------------------------------------------------------------------------------ text


def _decode_text(data: bytes) -> str | None:
    """Decode plain text, or return None when the bytes do not look like text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
        junk = len(_JUNK_CHARS_RE.findall(text))
        return text if junk <= _MAX_JUNK_RATIO * max(len(text), 1) else None

    # In UTF-8 and the 8-bit code pages a control character is a control byte, so the
    # junk test runs on bytes at C speed before any decoding.
    junk = len(data) - len(data.translate(None, _JUNK_BYTES))
    if junk > _MAX_JUNK_RATIO * len(data):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high > _MAX_HIGH_BYTE_RATIO * len(data):
        return None
    # cp1252 is what Windows editors write; it leaves five bytes undefined, which
    # latin-1 maps to (invisible) C1 controls instead of failing.
    codec = "latin-1" if any(b in data for b in _CP1252_UNDEFINED) else "cp1252"
    return data.decode(codec)


def _extract_plain_text(data: bytes) -> ExtractedText:
    decoded = _decode_text(data)
    if decoded is None:  # detect_kind said TEXT, so this cannot happen; stay total anyway
        _fail(FailureReason.UNSUPPORTED_TYPE, _unsupported_message(data))
    text = _clean_text(decoded)
    words = count_words(text)
    if words == 0:
        _fail(
            FailureReason.CORRUPT,
            "The file is empty: it contains no words. Check that you picked the right "
            "file and upload it again.",
        )
    return ExtractedText(FileKind.TEXT, text, 1, words)


# ------------------------------------------------------------------------------- PDF

_PDF_DAMAGED = (
    "This PDF is damaged or incomplete, so it cannot be read. Download or export it "
    "again (for example with 'Save as PDF' in your editor) and upload the new file."
)
_PDF_ENCRYPTED = (
    "This PDF is password-protected. Remove the password (for example open it and "
    "print it to a new PDF) and upload it again."
)
_LIT_IMAGE = LIT("Image")
# Keys that lead away from the page being read (up the page tree, to annotations,
# thumbnails, metadata): pdfminer does not inflate those streams to extract text.
_GRAPH_SKIP_KEYS = frozenset({"Parent", "P", "Annots", "Thumb", "Metadata", "B", "PieceInfo"})


def _extract_pdf(data: bytes, max_pages: int) -> ExtractedText:
    encrypted = False
    try:
        with pdfplumber.open(io.BytesIO(data), raise_unicode_errors=False) as pdf:
            encrypted = pdf.doc.encryption is not None
            return _read_pdf(pdf, max_pages)
    except ExtractionFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - every parser failure must become a reason
        if _caused_by(exc, PDFEncryptionError):
            _fail(FailureReason.ENCRYPTED, _PDF_ENCRYPTED)
        if encrypted:
            # The file opened, so the failure is in decrypting its streams (e.g. an
            # unsupported crypt filter): removing the protection is what helps.
            _fail(
                FailureReason.ENCRYPTED,
                "This PDF is protected in a way we cannot read. Remove the protection "
                "(for example print it to a new PDF) and upload it again.",
            )
        _fail(FailureReason.CORRUPT, _PDF_DAMAGED)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    # pdfplumber wraps pdfminer errors as PdfminerException(original), so the original
    # is in args[0]; walk causes and contexts as well.
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _read_pdf(pdf: pdfplumber.PDF, max_pages: int) -> ExtractedText:
    doc = pdf.doc
    page_tree = _page_tree_root(doc)
    if page_tree is None:
        # Without /Pages pdfminer would scan every object of the file looking for
        # pages, which is unbounded on crafted cross-reference streams.
        _fail(FailureReason.CORRUPT, _PDF_DAMAGED)

    # Count by walking the page tree, but stop one past the limit: the walk, not the
    # declared /Count, is what pdfminer will extract, and the declared count can lie.
    found = sum(1 for _ in itertools.islice(PDFPage.create_pages(doc), max_pages + 1))
    declared = _declared_page_count(page_tree)
    if found > max_pages:
        known = declared is not None and declared > max_pages
        shown = f"{declared:,}" if known else f"more than {max_pages}"
        _fail(
            FailureReason.TOO_MANY_PAGES,
            f"This PDF has {shown} pages; a resume can have at most {max_pages}. "
            "Upload a shorter version.",
        )
    if declared is not None and declared > max_pages:
        # E.g. /Count 213804087 over a single page: the page tree is broken, and
        # blaming the length would send the user hunting for pages that don't exist.
        _fail(FailureReason.CORRUPT, _PDF_DAMAGED)
    if found == 0:
        if not _page_tree_is_empty(page_tree, declared):
            # The tree lists pages but none could be read: damage, not an empty file.
            _fail(FailureReason.CORRUPT, _PDF_DAMAGED)
        _fail(
            FailureReason.ZERO_PAGES,
            "This PDF has no pages. Export your resume to PDF again and upload the new file.",
        )

    pages = pdf.pages
    _check_inflated_size([page.page_obj for page in pages])

    texts: list[str] = []
    has_chars = has_images = has_vectors = False
    for page in pages:
        # A two-column page (a sidebar beside the main column) is read column by column.
        texts.append(page_text(page, x_tolerance_ratio=_X_TOLERANCE_RATIO))
        # Cheap: reading the text already parsed and cached the page's objects.
        has_chars = has_chars or bool(page.chars)
        has_images = has_images or bool(page.images)
        has_vectors = has_vectors or bool(page.curves)
        page.close()  # drop the cached layout objects before the next page

    text = _clean_text(_CID_RE.sub("", "\n\n".join(texts)))
    if not _is_readable(text):
        _fail(FailureReason.NO_TEXT_LAYER, _no_text_message(has_images, has_chars, has_vectors))
    return ExtractedText(FileKind.PDF, text, len(pages), count_words(text))


def _page_tree_root(doc: PDFDocument) -> dict[str, Any] | None:
    try:
        root = resolve1(doc.catalog.get("Pages"))
    except Exception:  # noqa: BLE001 - e.g. RecursionError on circular references
        return None
    return root if isinstance(root, dict) else None


def _declared_page_count(page_tree: dict[str, Any]) -> int | None:
    try:
        count = resolve1(page_tree.get("Count"))
    except Exception:  # noqa: BLE001 - a circular /Count is simply not a count
        return None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _page_tree_is_empty(page_tree: dict[str, Any], declared: int | None) -> bool:
    try:
        kids = resolve1(page_tree.get("Kids"))
    except Exception:  # noqa: BLE001
        return False
    return declared in (None, 0) and (kids is None or kids == [])


def _check_inflated_size(pages: list[PDFPage]) -> None:
    """Refuse a Flate bomb before pdfminer inflates it in one zlib.decompress call."""
    remaining = _PDF_MAX_INFLATED
    for stream in _streams_read_for_text(pages):
        remaining -= _inflated_size(stream, limit=remaining + 1)
        if remaining < 0:
            _fail(
                FailureReason.TOO_LARGE,
                "This PDF expands to more than "
                f"{_PDF_MAX_INFLATED // _MIB} MB of data when opened, far more than a "
                "resume needs. Export it again as a plain PDF and upload the new file.",
            )


def _streams_read_for_text(pages: list[PDFPage]) -> Iterator[PDFStream]:
    """Non-image streams reachable from the pages: contents, forms, fonts, CMaps."""
    seen: set[int] = set()
    todo: list[object] = [page.attrs for page in pages]
    nodes = 0
    while todo and nodes < _PDF_MAX_GRAPH_NODES:
        obj = todo.pop()
        nodes += 1
        if isinstance(obj, PDFObjRef):
            if obj.objid in seen:
                continue
            seen.add(obj.objid)
            try:
                obj = obj.resolve()
            except Exception:  # noqa: BLE001 - broken objects are pdfminer's call later
                continue
        if isinstance(obj, PDFStream):
            if _is_image(obj):
                continue  # pdfminer never decodes images to extract text
            yield obj
            todo.extend(_graph_children(obj.attrs))
        elif isinstance(obj, dict):
            todo.extend(_graph_children(obj))
        elif isinstance(obj, list):
            todo.extend(v for v in obj if isinstance(v, (PDFObjRef, PDFStream, dict, list)))


def _graph_children(mapping: dict[Any, Any]) -> Iterator[object]:
    for key, value in mapping.items():
        if key not in _GRAPH_SKIP_KEYS and isinstance(value, (PDFObjRef, PDFStream, dict, list)):
            yield value


def _is_image(stream: PDFStream) -> bool:
    try:
        return resolve1(stream.attrs.get("Subtype")) is _LIT_IMAGE
    except Exception:  # noqa: BLE001
        return False


def _inflated_size(stream: PDFStream, *, limit: int) -> int:
    """Size of the stream once inflated, counted in 1 MB steps and capped at ``limit``."""
    raw = stream.rawdata
    if raw is None:  # already decoded by pdfminer
        return len(stream.data or b"")
    try:
        filters = stream.get_filters()
        if not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
            return len(raw)
        if stream.decipher is not None:
            raw = stream.decipher(stream.objid, stream.genno, raw, stream.attrs)
    except Exception:  # noqa: BLE001 - let pdfminer report the broken stream itself
        return len(raw)
    inflater = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while pending and size <= limit:
            out = inflater.decompress(pending, _MIB)
            if not out and len(inflater.unconsumed_tail) == len(pending):
                break  # no progress: never spin on odd input
            size += len(out)
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # pdfminer salvages what it can from a corrupt stream; it is no bigger
    return size


def _is_readable(text: str) -> bool:
    """True if the text has real words, not just digits or font-encoding garbage.

    A font without a Unicode map turns "Phone" into '"7+%-'; a Chinese page drawn
    without one leaves only its digits ("2021 3 31"). Neither is text a reader or a
    keyword matcher can use, so both count as "no text layer".
    """
    words = text.split()
    if not any(sum(ch.isalpha() for ch in word) >= 2 for word in words):
        return False
    visible = sum(len(word) for word in words)
    alnum = sum(ch.isalnum() for word in words for ch in word)
    return 2 * alnum >= visible


def _no_text_message(has_images: bool, has_chars: bool, has_vectors: bool) -> str:
    if has_images:
        return (
            "This PDF has no selectable text: it looks like a scan or a photo of a page. "
            "Upload the original document (DOCX, or a PDF exported from your editor) instead."
        )
    if has_chars:
        return (
            "The text in this PDF uses fonts that cannot be converted back to letters. "
            "Export it again from your editor with 'Save as PDF', or upload the DOCX instead."
        )
    if has_vectors:
        return (
            "The text in this PDF is drawn as shapes (outlines) rather than stored as text. "
            "Export it again without converting text to outlines, or upload the DOCX instead."
        )
    return (
        "This PDF's pages are blank: there is no text to read. Check that you picked "
        "the right file and upload it again."
    )


# ------------------------------------------------------------------------------ DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_W_P, _W_TBL, _W_TR, _W_TC = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_W_T, _W_TAB, _W_PTAB = f"{_W}t", f"{_W}tab", f"{_W}ptab"
_W_BR, _W_CR, _W_NB_HYPHEN = f"{_W}br", f"{_W}cr", f"{_W}noBreakHyphen"
_W_TXBX = f"{_W}txbxContent"
# Containers whose children are ordinary content (content controls, custom XML,
# tracked insertions, the chosen branch of markup-compatibility blocks).
_WRAPPERS = frozenset(
    {f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins", f"{_W}moveTo",
     f"{_W}smartTag", f"{_MC}AlternateContent", f"{_MC}Choice"}
)
# Subtrees with no visible text: deletions, and the VML fallback that repeats the
# DrawingML text box of mc:Choice (reading both would double every text box).
_SKIP = frozenset(
    {f"{_W}del", f"{_W}moveFrom", f"{_MC}Fallback", f"{_W}sdtPr", f"{_W}rPr", f"{_W}pPr"}
)
_PAGES_RE = re.compile(rb"<(?:\w+:)?Pages>\s*(\d{1,9})\s*</")

_DOCX_DAMAGED = (
    "This Word document is damaged or incomplete, so it cannot be read. Open it in "
    "Word, save it again as .docx (or as PDF) and upload the new file."
)


def _zip_is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Part names in an OPC package are case-insensitive.
            return any(name.lower() == _DOCX_MAIN_PART for name in archive.namelist())
    except Exception:  # noqa: BLE001
        # A truncated upload loses the zip directory at the end, but the local header
        # naming word/document.xml near the start survives: still a (broken) DOCX.
        return _DOCX_MAIN_PART.encode() in data


def _is_encrypted_ooxml(data: bytes) -> bool:
    # Office stores a password-protected .docx as an OLE compound file holding the
    # streams "EncryptionInfo" and "EncryptedPackage"; directory names are UTF-16LE.
    return (
        data.startswith(_OLE_MAGIC)
        and "EncryptionInfo".encode("utf-16-le") in data
        and "EncryptedPackage".encode("utf-16-le") in data
    )


def _extract_docx(data: bytes, max_pages: int) -> ExtractedText:
    if _is_encrypted_ooxml(data):
        _fail(
            FailureReason.ENCRYPTED,
            "This Word document is password-protected. Remove the password (File > Info > "
            "Protect Document) and upload it again.",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - BadZipFile, OSError, ... : all mean damaged
        _fail(FailureReason.CORRUPT, _DOCX_DAMAGED)
    with archive:
        _check_zip_budget(archive.infolist())
        declared_pages = _docx_declared_pages(archive)
    if declared_pages > max_pages:
        _fail(
            FailureReason.TOO_MANY_PAGES,
            f"This document has {declared_pages} pages; a resume can have at most "
            f"{max_pages}. Upload a shorter version.",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except ValueError as exc:
        if "is not a Word file" in str(exc):
            _fail(
                FailureReason.UNSUPPORTED_TYPE,
                "This is a Word template or macro-enabled file, not a regular document. "
                "Save it as .docx (or PDF) and upload it again.",
            )
        _fail(FailureReason.CORRUPT, _DOCX_DAMAGED)
    except Exception:  # noqa: BLE001 - missing parts, bad XML, ...
        _fail(FailureReason.CORRUPT, _DOCX_DAMAGED)
    try:
        text = _clean_text("\n".join(_docx_blocks(document)))
    except Exception:  # noqa: BLE001
        _fail(FailureReason.CORRUPT, _DOCX_DAMAGED)
    words = count_words(text)
    if words == 0:
        _fail(
            FailureReason.NO_TEXT_LAYER,
            "This Word document contains no text we can read (perhaps only pictures of "
            "text). Upload a version where the resume is typed text, not an image.",
        )
    return ExtractedText(FileKind.DOCX, text, max(declared_pages, 1), words)


def _check_zip_budget(entries: list[zipfile.ZipInfo]) -> None:
    # zipfile stops inflating an entry at its declared file_size, so the declared
    # sizes bound the memory python-docx can use even when they lie.
    if any(info.flag_bits & 0x1 for info in entries):
        _fail(
            FailureReason.ENCRYPTED,
            "This document is inside a password-protected zip. Remove the password and "
            "upload the .docx itself.",
        )
    total = sum(info.file_size for info in entries)
    bomb = any(
        info.file_size > _DOCX_RATIO_MIN_SIZE
        and info.file_size > _DOCX_MAX_RATIO * max(info.compress_size, 1)
        for info in entries
    )
    if total > _DOCX_MAX_UNCOMPRESSED or bomb:
        _fail(
            FailureReason.TOO_LARGE,
            f"This Word document expands to {_human_size(total)} when opened, far more "
            "than a resume needs. Remove large embedded objects, save it again and upload it.",
        )


def _docx_declared_pages(archive: zipfile.ZipFile) -> int:
    """Pages as last counted by Word in docProps/app.xml, or 1 when absent."""
    name = next((n for n in archive.namelist() if n.lower() == "docprops/app.xml"), None)
    if name is None:
        return 1
    try:
        with archive.open(name) as handle:
            head = handle.read(256 * 1024)  # the <Pages> element sits near the top
    except Exception:  # noqa: BLE001 - metadata is optional; python-docx judges the rest
        return 1
    match = _PAGES_RE.search(head)
    return max(int(match.group(1)), 1) if match else 1


def _docx_blocks(document: Any) -> Iterator[str]:
    """Headers, body (paragraphs, tables, text boxes in document order), footers."""
    headers: list[str] = []
    footers: list[str] = []
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.HEADER, RT.FOOTER):
            continue
        block = "\n".join(_block_texts(rel.target_part.element)).strip()
        target = headers if rel.reltype == RT.HEADER else footers
        if block and block not in target:  # sections usually repeat the same header
            target.append(block)
    yield from headers
    yield from _block_texts(document.element.body)
    yield from footers


def _block_texts(container: etree._Element) -> Iterator[str]:
    for child in container:
        tag = child.tag
        if tag == _W_P:
            parts: list[str] = []
            boxes: list[etree._Element] = []
            _run_texts(child, parts, boxes)
            yield "".join(parts)
            for box in boxes:  # text boxes anchored in the paragraph follow it
                yield from _block_texts(box)
        elif tag == _W_TBL:
            yield from _table_texts(child)
        elif tag in _WRAPPERS:
            yield from _block_texts(child)


def _run_texts(element: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
    # python-docx's Paragraph.text only reads direct runs and hyperlinks, missing
    # content controls (sdt), tracked insertions and fields, which Word's resume
    # templates are full of; so walk the paragraph ourselves.
    for child in element:
        tag = child.tag
        if tag == _W_T:
            parts.append(child.text or "")
        elif tag in (_W_TAB, _W_PTAB):
            parts.append("\t")
        elif tag in (_W_BR, _W_CR):
            parts.append("\n")
        elif tag == _W_NB_HYPHEN:
            parts.append("-")
        elif tag == _W_TXBX:
            boxes.append(child)
        elif tag not in _SKIP and isinstance(tag, str):  # skip comments/PIs (tag is a function)
            _run_texts(child, parts, boxes)


def _table_texts(table: etree._Element) -> Iterator[str]:
    for row in _children(table, _W_TR):
        cells = [[b for b in _block_texts(cell) if b.strip()] for cell in _children(row, _W_TC)]
        if all(len(blocks) <= 1 for blocks in cells):
            # A row of short cells reads best as one tab-separated line.
            yield "\t".join(blocks[0] if blocks else "" for blocks in cells)
        else:
            # Layout tables (sidebar | main column) hold whole sections per cell:
            # keep each cell's paragraphs together, cell after cell.
            for blocks in cells:
                yield from blocks


def _children(element: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, looking through content controls and similar wrappers."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


# ----------------------------------------------------------------------- unsupported


def _image_format(data: bytes) -> str | None:
    for magic, name in _IMAGE_MAGICS:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC"
    return None


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [name.lower() for name in archive.namelist()]
    except Exception:  # noqa: BLE001
        return []


def _unsupported_message(data: bytes) -> str:
    image = _image_format(data)
    if image is not None:
        return (
            f"This file is an image ({image}), not a document. Upload your resume as a PDF "
            "with selectable text, a Word .docx file or plain text."
        )
    if data.startswith(_OLE_MAGIC):
        if "WordDocument".encode("utf-16-le") in data:
            return (
                "This is an old-style Word .doc file. Open it in Word, save it as .docx "
                "(or PDF) and upload it again."
            )
        return (
            "This is an old-style Microsoft Office file. Save your resume as .docx or PDF "
            "and upload it again."
        )
    if data.startswith(_ZIP_MAGICS):
        names = _zip_names(data)
        if any(n.startswith("xl/") for n in names) or any(n.startswith("ppt/") for n in names):
            return (
                "This is an Excel or PowerPoint file, not a resume document. Upload your "
                "resume as a PDF or Word .docx file."
            )
        if "content.xml" in names:
            return (
                "This is an OpenDocument file. Save it as .docx or PDF and upload it again."
            )
        return (
            "This is a zip archive, not a document. Upload the resume itself as a PDF or "
            "Word .docx file."
        )
    if data.startswith(b"{\\rtf"):
        return "This is an RTF file. Save it as .docx or PDF and upload it again."
    return (
        "This file is not a PDF, a Word .docx file or plain text. Save your resume in one "
        "of those formats and upload it again."
    )
