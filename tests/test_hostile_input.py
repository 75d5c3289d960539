"""Hostile input through the HTTP API: every one gets a clear 4xx in the one error shape or, for
uploads, a classified extraction failure; never a 5xx, a hung or dead worker; and the service
keeps working afterwards. The badpdfs/ corpus through the API is covered by
tests/test_extraction_pipeline.py, the parser on its own by tests/test_extraction.py."""
from __future__ import annotations

import io
import zipfile

import pytest

from api import create_app
from tests.conftest import REALDATA, Auth, make_test_env, upload, wait_for_extraction
from tests.support.documents import docx_bytes, pdf_file

GOOD_PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()
ERROR_KEYS = {"code", "status", "message", "errors"}


def assert_error(response, code: int) -> dict:
    """A 4xx in the one error shape with a message a client can show."""
    assert response.status_code == code, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.json
    assert set(body) <= ERROR_KEYS and body["code"] == code and body["message"].strip(), body
    return body


def assert_still_healthy(client, user) -> None:
    """/api/health answers and a real resume still extracts."""
    assert client.get("/api/health").status_code == 200
    resume = upload(client, user, GOOD_PDF, "after.pdf").json
    assert wait_for_extraction(client, user, resume["id"])["extraction_status"] == "succeeded"


def many_pages_pdf(pages: int) -> bytes:
    """A valid PDF of ``pages`` empty pages sharing one page object layout (small on disk)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    return pdf_file(objects, root=1)


def docx_zip_bomb(megabytes: int) -> bytes:
    """A real-looking DOCX whose word/document.xml inflates to ``megabytes`` MB of XML."""
    real = zipfile.ZipFile(io.BytesIO(docx_bytes(["Bomb"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in real.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, real.read(item))
        with bomb.open("word/document.xml", "w") as handle:
            handle.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                         b'wordprocessingml/2006/main"><w:body>')
            chunk = b"<w:p/>" * (1024 * 1024 // 6)
            for _ in range(megabytes):
                handle.write(chunk)
            handle.write(b"</w:body></w:document>")
    return out.getvalue()


def lying_zip(declared_size: int, real_megabytes: int) -> bytes:
    """A DOCX whose central directory claims document.xml is ``declared_size`` bytes while its
    deflated data inflates to ``real_megabytes`` MB: a size check on the header alone is fooled."""
    data = bytearray(docx_zip_bomb(real_megabytes))
    name = b"word/document.xml"
    index = data.find(b"PK\x01\x02")  # central directory entries
    while index != -1:
        name_length = int.from_bytes(data[index + 28:index + 30], "little")
        if data[index + 46:index + 46 + name_length] == name:
            data[index + 24:index + 28] = declared_size.to_bytes(4, "little")  # uncompressed size
        index = data.find(b"PK\x01\x02", index + 4)
    return bytes(data)


# ---------------------------------------------------------------------------------- uploads

def test_hostile_uploads_fail_classified_and_the_service_stays_healthy(client, user, workers):
    cases = {
        "docx zip bomb (1 GB of XML)": (docx_zip_bomb(1024), "bomb.docx", "too_large"),
        "docx that lies about its size": (lying_zip(4096, 300), "liar.docx", {"too_large", "corrupt"}),
        "pdf with 5,000 pages": (many_pages_pdf(5000), "pages.pdf", "too_many_pages"),
        "pdf declaring 2^31 pages": (many_pages_pdf(1).replace(b"/Count 1", b"/Count 2147483647"),
                                     "count.pdf", {"corrupt", "too_many_pages"}),
    }
    assert len(cases["docx zip bomb (1 GB of XML)"][0]) < 2 * 1024 * 1024
    uploaded = {}
    for label, (data, filename, _) in cases.items():
        response = upload(client, user, data, filename)
        assert response.status_code == 201, (label, response.json)
        uploaded[label] = response.json["id"]
    for label, (_, _, expected) in cases.items():
        resume = wait_for_extraction(client, user, uploaded[label], timeout=120)
        assert resume["extraction_status"] == "failed", label
        assert resume["failure_reason"] in ({expected} if isinstance(expected, str) else expected), \
            (label, resume["failure_reason"])
        assert resume["failure_message"].strip(), label
    assert workers.worker.alive
    assert_still_healthy(client, user)


@pytest.mark.parametrize("filename", [
    "../../../../etc/passwd", "..\\..\\windows\\system32\\config\\sam", "cv\x00.pdf", "\x00", "../\x00../x.pdf",
    "/absolute/path/cv.pdf", "..", "." * 300, "\"quoted\".pdf", "résumé 履歴書.pdf", "a" * 5000 + ".pdf",
])
def test_hostile_filenames_are_stored_safely(client, user, filename):
    response = upload(client, user, GOOD_PDF, filename)
    assert response.status_code == 201, response.json
    resume = response.json
    stored = resume["original_filename"]
    if stored is not None:
        assert not any(c in stored for c in "/\\\x00\r\n\"") and not stored.startswith(".")
        assert len(stored) <= 255
    download = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
    assert download.status_code == 200 and download.data == GOOD_PDF
    disposition = download.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and ".." not in disposition.replace("...", "")


def test_multipart_body_over_the_limit_is_413_before_it_is_read(migrated_database):
    client = create_app({**make_test_env(), "RESUME_MAX_BYTES": "65536"}).test_client()
    headers = Auth(client).headers()
    body = assert_error(upload(client, headers, b"%PDF-1.4\n" + b"0" * (1024 * 1024), "big.pdf"), 413)
    assert "larger" in body["message"]
    assert client.get("/api/resumes", headers=headers).json == []


@pytest.mark.parametrize("content_type", [
    "application/pdf", "image/png", "application/x-msdownload", "text/html", "application/octet-stream",
])
def test_declared_content_type_is_ignored_the_bytes_decide(client, user, content_type):
    pdf = upload(client, user, GOOD_PDF, "cv.exe", content_type)
    assert pdf.status_code == 201 and pdf.json["content_type"] == "application/pdf"
    html = upload(client, user, b"\x89PNG\r\n\x1a\n" + bytes(200), "cv.pdf", content_type)
    assert "Unsupported file type" in assert_error(html, 422)["message"]


def test_malformed_multipart_bodies_are_4xx(client, user):
    url, headers = "/api/resumes", user
    # Not multipart at all, multipart without a boundary, a truncated body, the file as a text field.
    assert_error(client.post(url, data=GOOD_PDF, headers={**headers, "Content-Type": "application/pdf"}), 422)
    assert_error(client.post(url, data=b"--x\r\n", headers={**headers, "Content-Type": "multipart/form-data"}), 422)
    truncated = b'--b\r\nContent-Disposition: form-data; name="file"; filename="cv.pdf"\r\n\r\n%PDF-1.4'
    response = client.post(url, data=truncated, headers={**headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert 400 <= response.status_code < 500 and response.json["message"]
    as_text = client.post(url, data={"file": "not a file"}, headers=headers, content_type="multipart/form-data")
    assert "file part" in assert_error(as_text, 422)["errors"]["files"]["file"][0]
    twice = client.post(url, data={"file": [(io.BytesIO(GOOD_PDF), "a.pdf"), (io.BytesIO(GOOD_PDF), "b.pdf")]},
                        headers=headers, content_type="multipart/form-data")
    assert_error(twice, 422)
    named_with_nul = upload(client, headers, GOOD_PDF, "cv.pdf", name="CV\x00")
    assert_error(named_with_nul, 422)
    assert client.get("/api/resumes", headers=headers).json == []


def test_a_line_break_in_the_filename_cannot_inject_headers(client, user):
    # The raw CRLF ends the part's header block, so the file arrives as a broken part: refused,
    # and nothing reaches a response header.
    response = upload(client, user, GOOD_PDF, "cv.pdf\r\nX-Injected: yes")
    if response.status_code == 201:
        download = client.get(f"/api/resumes/{response.json['id']}/file", headers=user)
        assert "X-Injected" not in download.headers and "\n" not in download.headers["Content-Disposition"]
    else:
        assert_error(response, 422)


# ------------------------------------------------------------------------------------- JSON

def post_raw(client, user, body: bytes, path: str = "/api/jobs", content_type: str = "application/json"):
    return client.post(path, data=body, headers={**user, "Content-Type": content_type})


@pytest.mark.parametrize("body, code, fragment", [
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "nested"),
    (b'{"company": "\xff\xfe", "title": "x"}', 400, "UTF-8"),
    ('{"company": "a", "title": "b"}'.encode("utf-16"), 400, "UTF-8"),
    (b'{"company": ', 400, "JSON"),
    (b'"' + b'\\"' * 300_000, 400, "JSON"),  # unterminated: quadratic for a naive string scanner
    (b'{"company": "a", "title": "b", "salary_min": ' + b"9" * 5000 + b"}", 400, "JSON"),
    (b"[1, 2, 3]", 422, "object"),
    (b'"a string"', 422, "object"),
    (b"null", 422, "object"),
    (b"12", 422, "object"),
    (b'{"company": "a\\u0000b", "title": "x"}', 422, "NUL"),
    (b'{"company": "\\ud800", "title": "x"}', 422, "surrogate"),
    (b'{"company": "a", "title": "x", "tags\\u0000": 1}', 422, "NUL"),
    (b'{"company": "a", "title": "x", "salary_min": 1.5}', 422, "invalid fields"),
    (b'{"company": "a", "title": "x", "salary_min": NaN}', 422, "invalid fields"),
    (b'{"company": "a", "title": "x", "salary_min": 1e999}', 422, "invalid fields"),
])
def test_hostile_json_bodies_are_clear_4xx(client, user, body, code, fragment):
    assert fragment.lower() in assert_error(post_raw(client, user, body), code)["message"].lower()
    assert client.get("/api/jobs", headers=user).json == []


def test_oversized_json_bodies_are_413_whatever_their_shape(client, user):
    limit = client.application.config["MAX_JSON_BODY_BYTES"]
    assert_error(post_raw(client, user, b"[" * (limit + 1)), 413)
    assert_error(post_raw(client, user, b'{"company": "' + b"a" * limit + b'", "title": "x"}'), 413)
    assert_error(post_raw(client, user, b"{}" + b" " * limit, "/api/applications"), 413)


@pytest.mark.parametrize("query, field", [
    ("page_size=100000000000000000000", "page_size"), ("page_size=0", "page_size"), ("page_size=-5", "page_size"),
    ("page_size=abc", "page_size"), ("page=0", "page"), ("page=-1", "page"), ("page=1e3", "page"),
    ("page=100000000000000000000000000000", "page"), ("page=1000001", "page"), ("page=%00", "page"),
    ("q=a%00b", "q"), ("sort=created_at;drop table", "sort"), ("sort=" + ",".join(["company"] * 50), "sort"),
])
def test_hostile_query_strings_are_422(client, user, query, field):
    body = assert_error(client.get(f"/api/jobs?{query}", headers=user), 422)
    assert field in body["errors"]["query"]


def test_hostile_dates_in_queries_are_422(client, user):
    for value in ("0001-01-01T00:00:00%2B05:00", "2024-01-01T00:00:00%2B20:05", "9999-12-31T23:59:59-05:00",
                  "not-a-date", "2024-13-45T00:00:00Z"):
        response = client.get(f"/api/applications?applied_from={value}", headers=user)
        if response.status_code != 200:  # +20:05 is a valid offset once converted to UTC
            assert "applied_from" in assert_error(response, 422)["errors"]["query"]


@pytest.mark.parametrize("path", [
    "/api/jobs/123", "/api/jobs/not-a-uuid", "/api/jobs/%00", "/api/applications/1%20OR%201=1",
    "/api/resumes/../../etc/passwd", "/api/resumes/" + "f" * 5000, "/api/analyses/-1",
])
def test_non_uuid_ids_are_404(client, user, path):
    assert_error(client.get(path, headers=user), 404)
