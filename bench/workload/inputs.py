"""What the simulated users upload and apply to: real resumes and listings from
../shared/realdata, hostile files users really send, and a plain-text resume."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bench.chaos import LISTINGS, REALDATA, RESUMES


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    content_type: str
    extractable: bool  # False: the API or the extraction is expected to refuse it (422 or failed)


# Hostile uploads: (file in realdata/badpdfs, the name it is sent under). The DOCX renamed
# .pdf is a real DOCX, so it is sent as one; the PNG keeps its lying .pdf name (the API's 422).
HOSTILE = [
    ("pdfminer_aes256_r6_user_usersecret.pdf", "encrypted.pdf"),
    ("plumber_password_user_test.pdf", "encrypted-2.pdf"),
    ("ocrmypdf_scan_2400dpi.pdf", "scan.pdf"),
    ("derived_truncated_resume_60pct.pdf", "truncated.pdf"),
    ("pdfminer_zlib_corrupted.pdf", "zlib.pdf"),
    ("plumber_empty_0bytes.pdf", "empty.pdf"),
    ("derived_png_renamed.pdf", "photo.pdf"),
    ("derived_zero_pages_valid.pdf", "zero-pages.pdf"),
]
DOCX_RESUME = "derived_docx_renamed.pdf"  # a DOCX exported by Word, renamed .pdf in realdata
# A resume a user types or pastes: its text as extracted from a real PDF resume.
PLAIN_TEXT_SOURCE = "rm_latex_moderncv_harvey_dent_mle.pdf"


@dataclass(frozen=True)
class Listing:
    title: str
    description: str


class Corpus:
    """Every file read once, shared read-only by all users' threads."""

    @cached_property
    def resumes(self) -> list[Upload]:
        """Uploads that extract to text: real PDFs, a DOCX and a plain-text resume."""
        pdfs = [Upload(name, (REALDATA / "resumes" / name).read_bytes(), "application/pdf", True) for name in RESUMES]
        docx = Upload("resume.docx", (REALDATA / "badpdfs" / DOCX_RESUME).read_bytes(),
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True)
        return [*pdfs, docx, Upload("resume.txt", self._plain_text().encode(), "text/plain", True)]

    @cached_property
    def hostile(self) -> list[Upload]:
        return [Upload(sent_as, (REALDATA / "badpdfs" / name).read_bytes(), "application/pdf", False)
                for name, sent_as in HOSTILE]

    @cached_property
    def listings(self) -> list[Listing]:
        return [Listing(name.rsplit(".", 1)[0].replace("_", " "), (REALDATA / "jobs" / name).read_text())
                for name in (*LISTINGS, "indeed2020_web_developer.txt", "rm_e2e_en_product-manager.txt")]

    @staticmethod
    def _plain_text() -> str:
        # The application's own extractor: the text a user would paste is the text we would read.
        from services.extraction import extract_text

        data = (REALDATA / "resumes" / PLAIN_TEXT_SOURCE).read_bytes()
        return extract_text(data, max_pages=10, max_bytes=len(data) + 1).text
