"""Uploads through the API, extraction in real Celery workers over RabbitMQ: what users get."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import REALDATA, upload, wait_for_extraction
from tests.support.documents import docx_bytes

RESUMES = sorted((REALDATA / "resumes").glob("*.pdf"))
SCANNED = "derived_rasterized_alfred_pennyworth_2pp.pdf"
WITH_TEXT = [path for path in RESUMES if path.name != SCANNED]
FAILURE_REASONS = {"encrypted", "unsupported_type", "corrupt", "zero_pages", "no_text_layer", "too_many_pages", "too_large"}


def pdftotext_words(path) -> int:
    """`pdftotext FILE - | wc -w`."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    return int(subprocess.run(["wc", "-w"], input=text, capture_output=True, check=True).stdout)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_real_resumes_extract_within_3_percent_of_pdftotext(client, user, workers):
    uploaded = {path.name: upload(client, user, path.read_bytes(), path.name).json for path in RESUMES}
    assert all(resume["extraction_status"] == "queued" for resume in uploaded.values())
    for path in RESUMES:
        resume = wait_for_extraction(client, user, uploaded[path.name]["id"])
        if path.name == SCANNED:
            assert resume["extraction_status"] == "failed" and resume["failure_reason"] == "no_text_layer"
            assert "scan" in resume["failure_message"].lower()
            continue
        assert resume["extraction_status"] == "succeeded", (path.name, resume["failure_message"])
        expected = pdftotext_words(path)
        assert abs(resume["word_count"] - expected) <= 0.03 * expected, (path.name, resume["word_count"], expected)
        assert resume["page_count"] >= 1 and len(resume["text"].split()) == resume["word_count"]


def test_every_bad_pdf_is_a_4xx_or_a_classified_failure_and_good_uploads_still_finish(client, user, workers):
    good = [upload(client, user, WITH_TEXT[0].read_bytes(), "good-before.pdf").json]
    outcomes = {}
    for path in sorted((REALDATA / "badpdfs").glob("*")):
        response = upload(client, user, path.read_bytes(), path.name, "application/pdf")
        assert response.status_code < 500, (path.name, response.json)
        outcomes[path.name] = response
    good.append(upload(client, user, WITH_TEXT[1].read_bytes(), "good-after.pdf").json)

    for name, response in outcomes.items():
        if response.status_code != 201:
            assert response.status_code in (413, 422) and response.json["message"], name
            continue
        resume = wait_for_extraction(client, user, response.json["id"])
        if resume["extraction_status"] == "failed":
            assert resume["failure_reason"] in FAILURE_REASONS, (name, resume["failure_reason"])
            assert resume["failure_message"], name
        else:  # a damaged file that still has a readable text layer
            assert resume["word_count"] > 0, name
    for resume in good:
        assert wait_for_extraction(client, user, resume["id"])["extraction_status"] == "succeeded"
    assert workers.worker.alive


def test_docx_and_plain_text_resumes_extract(client, user, workers):
    docx = upload(client, user, docx_bytes(["Ada Lovelace", "Analytical engine programmer, 1843"]), "ada.docx").json
    text = upload(client, user, "Grace Hopper\nCOBOL, compilers\n".encode("utf-16"), "grace.txt").json
    docx, text = wait_for_extraction(client, user, docx["id"]), wait_for_extraction(client, user, text["id"])
    assert docx["extraction_status"] == "succeeded" and "Analytical engine" in docx["text"]
    assert text["extraction_status"] == "succeeded" and text["text"].split() == ["Grace", "Hopper", "COBOL,", "compilers"]


def test_concurrent_uploads_each_extract_once(client, user, workers):
    data = WITH_TEXT[2].read_bytes()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda i: upload(client, user, data, f"copy-{i}.pdf"), range(16)))
    assert {r.status_code for r in responses} == {201}
    results = [wait_for_extraction(client, user, r.json["id"]) for r in responses]
    assert {r["extraction_status"] for r in results} == {"succeeded"}
    assert len({r["word_count"] for r in results}) == 1
    jobs = client.get("/api/background-jobs?page_size=100", headers=user).json
    assert len(jobs) == 16 and all(j["attempts"] == 1 and j["state"] == "succeeded" for j in jobs)
