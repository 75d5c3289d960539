"""Property-based tests of every operation in /api/openapi.json with schemathesis: valid and
invalid requests generated from the schema, sent through the WSGI app as a signed-in user who
owns a job listing, an application, a resume and an analysis (extracted and analysed by the real
workers), so that id routes reach real rows too.

Every response must be documented: not a 5xx, a status code the operation lists explicitly
(not only through the catch-all ``default``), a body matching that code's schema, and the
content type it declares. Settings (examples per operation, seed, checks) are in
``schemathesis.toml`` at the repository root.
"""
from __future__ import annotations

import uuid

import pytest
import schemathesis
from schemathesis.checks import CheckContext

from api import create_app
from models import db
from tests.conftest import (PASSWORD, SEEDED_TABLES, _truncate, bearer, make_test_env, upload, wait_for_analysis,
                            wait_for_extraction)
from tests.support.documents import text_pdf

# Built at import because schemathesis parametrizes tests from the schema at collection time
# (its lazy fixture loader does not work with pytest 9); nothing here touches the database.
APP = create_app(make_test_env())
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)
ID_PARAMETERS = {
    "job_id": "job", "application_id": "application", "resume_id": "resume",
    "analysis_id": "analysis", "background_job_id": "background_job",
}


def status_code_documented_explicitly(ctx: CheckContext, response, case) -> bool | None:
    """flask-smorest adds a ``default`` error response to every operation, which would make any
    status code conform; a client needs the codes an operation really answers with listed."""
    scenario = getattr(getattr(getattr(case.meta, "phase", None), "data", None), "scenario", None)
    if getattr(scenario, "name", None) == "UNSPECIFIED_HTTP_METHOD":
        return None  # schemathesis probing with a method the operation does not have: 405 is right
    documented = case.operation.definition.raw.get("responses", {})
    if str(response.status_code) not in documented:
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code}, which its documentation does not list "
            f"(it lists {', '.join(sorted(code for code in documented if code != 'default'))})"
        )
    return True


@pytest.fixture(scope="module")
def api_app(migrated_database):
    app = APP
    yield app
    with app.app_context():
        db.session.remove()
        _truncate([t.name for t in reversed(db.metadata.sorted_tables) if t.name not in SEEDED_TABLES])
        db.engine.dispose()


class Owner:
    """A registered user and the rows they own, made through the API."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.email = f"schemathesis-{uuid.uuid4().hex[:8]}@example.com"
        assert self.client.post("/api/auth/register", json={"email": self.email, "password": PASSWORD}).status_code == 201
        self.headers = self.sign_in()
        self.ids: dict[str, str] = {}

    def sign_in(self) -> dict:
        response = self.client.post("/api/auth/login", json={"email": self.email, "password": PASSWORD})
        return bearer(response.json["access_token"])

    def make_rows(self) -> None:
        """Fresh rows for one operation (the previous one may have deleted them)."""
        job = self.client.post("/api/jobs", json={"company": "Acme", "title": "Engineer", "description": "Python"},
                               headers=self.headers).json
        resume = upload(self.client, self.headers, text_pdf(1), "cv.pdf").json
        application = self.client.post("/api/applications", json={"job_id": job["id"], "resume_id": resume["id"]},
                                       headers=self.headers).json
        analysis = self.client.post(f"/api/resumes/{resume['id']}/analyze", json={"job_id": job["id"]},
                                    headers=self.headers).json
        self.ids = {"job": job["id"], "resume": resume["id"], "application": application["id"],
                    "analysis": analysis["id"], "background_job": resume["extraction_job_id"]}


@pytest.fixture(scope="module")
def owner(api_app, running_stack):
    """With the workers running, so that finished extractions and analyses (their text,
    provenance and costs) are among the responses checked against the document."""
    owner = Owner(api_app)
    owner.make_rows()
    wait_for_extraction(owner.client, owner.headers, owner.ids["resume"])
    wait_for_analysis(owner.client, owner.headers, owner.ids["analysis"])
    return owner


@schema.parametrize()
def test_every_operation_answers_as_documented(case, owner):
    if case.operation.method.upper() == "DELETE":
        owner.make_rows()
    headers = owner.headers
    if case.operation.path == "/api/auth/logout":
        headers = owner.sign_in()  # logging out must not sign the owner out of the other operations
    # Half of the generated ids (decided by the id itself, so examples replay) become real rows.
    for name, value in (case.path_parameters or {}).items():
        if name in ID_PARAMETERS and isinstance(value, str) and value[:1] in "01234567":
            case.path_parameters[name] = owner.ids[ID_PARAMETERS[name]]
    case.call_and_validate(headers=headers, additional_checks=[status_code_documented_explicitly])
