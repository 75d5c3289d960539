"""Resume uploads and metadata through the API. Workers may be running (they are session-wide),
so these tests assert nothing about how far extraction has got, unless they hold the relay."""
from __future__ import annotations

import uuid

import pytest

from api import create_app
from tests.conftest import REALDATA, make_test_env, upload
from tests.support.documents import docx_bytes, text_pdf
from tests.support.storage import stored_bytes, stored_file_hidden

PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()


def test_upload_returns_at_once_with_extraction_queued(client, user):
    response = upload(client, user, PDF, "John Doe CV.pdf")
    assert response.status_code == 201, response.json
    resume = response.json
    assert resume["extraction_status"] == "queued" and resume["extraction_job_id"]
    assert resume["name"] == "John Doe CV" and resume["original_filename"] == "John Doe CV.pdf"
    assert resume["file_kind"] == "pdf" and resume["content_type"] == "application/pdf"
    assert resume["size_bytes"] == len(PDF) and stored_bytes(client.application, resume["sha256"]) == PDF
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["kind"] == "resume_extraction" and job["subject_id"] == resume["id"]
    assert job["state"] in ("queued", "running", "succeeded")


def test_type_comes_from_the_bytes_not_the_name_or_content_type(client, user):
    pdf_as_text = upload(client, user, PDF, "notes.txt", "text/plain").json
    assert pdf_as_text["file_kind"] == "pdf" and pdf_as_text["content_type"] == "application/pdf"
    docx = upload(client, user, docx_bytes(["Jane Roe", "Python developer"]), "cv.pdf", "application/pdf").json
    assert docx["file_kind"] == "docx"
    text = upload(client, user, "Jane Roe\nPython, SQL\n".encode(), "cv.pdf", "application/pdf").json
    assert text["file_kind"] == "text" and text["content_type"].startswith("text/plain")


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "empty"),
        ((REALDATA / "badpdfs" / "derived_png_renamed.pdf").read_bytes(), "Unsupported file type"),
        (bytes(range(256)) * 20, "Unsupported file type"),
    ],
)
def test_unsupported_or_empty_files_are_422(client, user, data, fragment):
    response = upload(client, user, data, "cv.pdf", "application/pdf")
    assert response.status_code == 422 and fragment in response.json["message"]
    assert client.get("/api/resumes", headers=user).json == []


def test_missing_file_is_422(client, user):
    response = client.post("/api/resumes", data={"name": "x"}, headers=user, content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["errors"]["files"]


def test_size_limit_is_413_with_the_limit_in_the_message(migrated_database, auth):
    app = create_app({**make_test_env(), "RESUME_MAX_BYTES": "4096"})
    client = app.test_client()
    from tests.conftest import Auth

    headers = Auth(client).headers()
    slightly_over = upload(client, headers, b"word " * 1000, "cv.txt")
    assert slightly_over.status_code == 413 and "4,096 bytes" in slightly_over.json["message"]
    far_over = upload(client, headers, text_pdf(3) * 5, "cv.pdf")
    assert far_over.status_code == 413 and far_over.json["code"] == 413
    assert client.get("/api/resumes", headers=headers).json == []


def test_hostile_filenames_never_reach_storage_paths(client, user):
    response = upload(client, user, PDF, "../../etc/passwd\x00.pdf")
    assert response.status_code == 201
    resume = response.json
    assert resume["original_filename"] == "passwd.pdf"
    assert stored_bytes(client.application, resume["sha256"]) == PDF
    download = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
    assert 'filename="passwd.pdf"' in download.headers["Content-Disposition"]


def test_download_returns_the_original_bytes_safely(client, user):
    resume = upload(client, user, PDF, "cv.pdf").json
    response = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_rename_with_put_and_patch(client, user):
    resume = upload(client, user, PDF).json
    url = f"/api/resumes/{resume['id']}"
    assert client.patch(url, json={"name": "  Backend CV "}, headers=user).json["name"] == "Backend CV"
    assert client.put(url, json={"name": "Data CV"}, headers=user).json["name"] == "Data CV"
    assert client.patch(url, json={"name": ""}, headers=user).status_code == 422
    assert client.patch(url, json={"sha256": "0" * 64}, headers=user).status_code == 422
    assert client.get(url, headers=user).json["sha256"] == resume["sha256"]


def test_delete_removes_the_file_only_when_nobody_else_uses_it(client, auth, user):
    other_user = auth.headers()
    mine = upload(client, user, PDF).json
    theirs = upload(client, other_user, PDF).json
    assert mine["sha256"] == theirs["sha256"]
    assert client.delete(f"/api/resumes/{mine['id']}", headers=user).status_code == 204
    assert stored_bytes(client.application, mine["sha256"]) == PDF
    assert client.get(f"/api/resumes/{theirs['id']}/file", headers=other_user).data == PDF
    assert client.delete(f"/api/resumes/{theirs['id']}", headers=other_user).status_code == 204
    assert stored_bytes(client.application, mine["sha256"]) is None
    assert client.get(f"/api/resumes/{mine['id']}", headers=user).status_code == 404


def test_applications_link_resumes_and_survive_their_deletion(client, user, job):
    resume = upload(client, user, PDF).json
    application = client.post("/api/applications", json={"job_id": job["id"], "resume_id": resume["id"]}, headers=user).json
    assert application["resume_id"] == resume["id"]
    client.delete(f"/api/resumes/{resume['id']}", headers=user)
    assert client.get(f"/api/applications/{application['id']}", headers=user).json["resume_id"] is None


def test_list_filter_and_search(client, user):
    upload(client, user, PDF, "backend.pdf")
    upload(client, user, PDF, "data.pdf", name="Data science CV")
    names = [r["name"] for r in client.get("/api/resumes?sort=name", headers=user).json]
    assert names == ["backend", "Data science CV"]
    assert [r["name"] for r in client.get("/api/resumes?q=science", headers=user).json] == ["Data science CV"]
    assert client.get("/api/resumes?extraction_status=succeeded", headers=user).json == []
    assert "text" not in client.get("/api/resumes", headers=user).json[0]
    assert client.get("/api/resumes?extraction_status=bogus", headers=user).status_code == 422


def test_reextract_is_a_no_op_while_queued(client, user, workers):
    workers.relay.stop()  # nothing gets published, so the extraction stays queued
    resume = upload(client, user, PDF).json
    response = client.post(f"/api/resumes/{resume['id']}/extract", headers=user)
    assert response.status_code == 202 and response.json["extraction_job_id"] == resume["extraction_job_id"]
    jobs = client.get("/api/background-jobs?kind=resume_extraction", headers=user).json
    assert [j["id"] for j in jobs] == [resume["extraction_job_id"]]


def test_unknown_ids_are_404(client, user):
    for method, path in [("GET", "/api/resumes/{}"), ("GET", "/api/resumes/{}/file"), ("DELETE", "/api/resumes/{}"),
                         ("POST", "/api/resumes/{}/extract"), ("GET", "/api/background-jobs/{}")]:
        response = client.open(path.format(uuid.uuid4()), method=method, headers=user)
        assert response.status_code == 404, path


def test_a_missing_stored_file_is_a_503_not_a_500(client, user):
    resume = upload(client, user, PDF, "cv.pdf").json
    with stored_file_hidden(client.application, resume["sha256"]):
        response = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
    assert response.status_code == 503 and response.headers["Retry-After"] and "retry" in response.json["message"]
