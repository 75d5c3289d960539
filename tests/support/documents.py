"""Documents made in the tests: PDFs of any number of text pages, DOCX files."""
from __future__ import annotations

import io

WORDS = ("python postgresql distributed systems reliability celery rabbitmq latency throughput "
         "kubernetes observability mentoring design review incident response api").split()


def text_pdf(pages: int, *, lines_per_page: int = 45, words_per_line: int = 12) -> bytes:
    """A valid PDF with ``pages`` pages of Helvetica text (a real text layer)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_id = len(objects) + 2 * pages + 1  # the Pages object comes after every page
    page_ids = []
    for number in range(pages):
        lines = []
        for line in range(lines_per_page):
            words = [WORDS[(number * 7 + line * 3 + i) % len(WORDS)] for i in range(words_per_line)]
            lines.append(f"({' '.join(words)}) Tj T*".encode())
        stream = b"BT /F1 9 Tf 11 TL 40 800 Td " + b" ".join(lines) + b" ET"
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
        ))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)

    return pdf_file(objects, root=catalog)


def pdf_file(objects: list[bytes], *, root: int) -> bytes:
    """Objects (numbered from 1 in order) written out as a PDF with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
