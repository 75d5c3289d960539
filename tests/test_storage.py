"""Where uploads live: in PostgreSQL by default, committed with their resume row, so a worker
on another host needs no shared disk; the filesystem backend for one host; the races between an
upload and the removal of the same bytes; `flask storage migrate`; orphans (also in
tests/test_priorities_and_maintenance.py)."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text, update

from api import create_app
from models import BackgroundJob, StoredFile, db
from models.mixins import utcnow
from services import resumes
from services.storage import DatabaseStorage, LocalFileStorage, sha256_hex
from tests.conftest import REALDATA, STORAGE_DIR, Auth, make_test_env, upload, wait_for_extraction
from tests.support import stack
from tests.support.storage import stored_bytes
from tests.test_races import CommitGate

PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def owner_id(client, headers) -> uuid.UUID:
    return uuid.UUID(client.get("/api/user/profile", headers=headers).json["id"])


def waiting_on_a_lock(app) -> bool:
    """Some transaction in the test database waits for a row or advisory lock."""
    with app.app_context():
        waiting = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND wait_event_type = 'Lock'"))
        db.session.remove()
        return waiting > 0


def stored_rows(app, sha256: str) -> int:
    with app.app_context():
        count = db.session.query(StoredFile).filter_by(sha256=sha256).count()
        db.session.remove()
        return count


# --- the database backend -------------------------------------------------------------------------

def test_database_is_the_default_and_writes_nothing_to_disk(app, client, user):
    assert isinstance(app.extensions["storage"], DatabaseStorage)
    data = PDF + uuid.uuid4().bytes  # bytes no other test stored
    resume = upload(client, user, data, "cv.pdf").json
    assert stored_rows(app, resume["sha256"]) == 1
    assert client.get(f"/api/resumes/{resume['id']}/file", headers=user).data == data
    assert not LocalFileStorage(STORAGE_DIR).exists(resume["sha256"])


def test_the_bytes_commit_with_the_resume_row_or_not_at_all(app, client, user):
    owner, data = owner_id(client, user), b"Jane Roe\nPython, SQL\n" + uuid.uuid4().hex.encode()
    with app.app_context():
        resumes.create_resume(owner, data, filename="cv.txt", name=None)
        db.session.rollback()  # e.g. the job could not be written
        assert not app.extensions["storage"].exists(sha256_hex(data))
        resume = resumes.create_resume(owner, data, filename="cv.txt", name=None)
        db.session.commit()
        assert app.extensions["storage"].get(resume.sha256) == data
        db.session.remove()


def threads_calling(monkeypatch, method: str) -> set[int]:
    """The threads that have called ``DatabaseStorage.<method>``: their sessions are the ones to hold."""
    callers: set[int] = set()
    real = getattr(DatabaseStorage, method)

    def recorded(self, *args):
        callers.add(threading.get_ident())
        return real(self, *args)

    monkeypatch.setattr(DatabaseStorage, method, recorded)
    return callers


@pytest.mark.parametrize("held", ["upload", "delete"])
def test_an_upload_racing_the_delete_of_the_last_resume_with_its_bytes_keeps_them(app, client, auth, pool,
                                                                                    monkeypatch, held):
    """A second upload of some bytes races the delete of the last resume holding them; one side
    is held before its commit while the other runs until it ends or waits for a lock.

    upload held: it has stored the bytes (its transaction holds their row) and not committed its
    resume. Without the lock the delete finds no other resume and removes the bytes the new
    resume needs (checking inside its DELETE, it would re-check on a stale snapshot: the same).
    delete held: it has removed the bytes and not committed; the upload waits, then stores them
    afresh."""
    first, second = auth.headers(), auth.headers()
    data = PDF + uuid.uuid4().bytes  # bytes no other test stored
    old = upload(client, first, data, "old.pdf").json
    start = {"upload": lambda: pool.submit(upload, client, second, data, "new.pdf"),
             "delete": lambda: pool.submit(client.delete, f"/api/resumes/{old['id']}", headers=first)}
    other = "delete" if held == "upload" else "upload"
    holding = threads_calling(monkeypatch, "put" if held == "upload" else "delete")
    with CommitGate(lambda session: threading.get_ident() in holding) as gate:
        running = {held: start[held]()}
        assert gate.reached.wait(10), f"the {held} never reached its commit"
        running[other] = start[other]()
        stack.wait_until(lambda: running[other].done() or waiting_on_a_lock(app), timeout=10,
                         what=f"the {other} to end or wait for the {held}")
        gate.proceed.set()
        deletion, new = running["delete"].result(10), running["upload"].result(10)
    assert deletion.status_code == 204 and new.status_code == 201, new.json
    assert stored_bytes(app, new.json["sha256"]) == data
    assert client.get(f"/api/resumes/{new.json['id']}/file", headers=second).data == data


# --- the filesystem backend -----------------------------------------------------------------------

def test_the_filesystem_backend_keeps_files_under_storage_dir(app, tmp_path):
    files = tmp_path / "files"
    fs_app = create_app({**make_test_env(), "STORAGE_BACKEND": "filesystem", "STORAGE_DIR": str(files)})
    client = fs_app.test_client()
    headers = Auth(client).headers()
    resume = upload(client, headers, PDF, "cv.pdf").json
    path = LocalFileStorage(files).path_for(resume["sha256"])
    assert path.read_bytes() == PDF and stored_rows(app, resume["sha256"]) == 0
    assert client.get(f"/api/resumes/{resume['id']}/file", headers=headers).data == PDF
    assert client.delete(f"/api/resumes/{resume['id']}", headers=headers).status_code == 204
    assert not path.exists()


# --- flask storage migrate ------------------------------------------------------------------------

def resume_on_disk(fs_app, owner: uuid.UUID, data: bytes) -> str:
    """A resume stored by the filesystem backend, its extraction kept from the workers (they
    read the database)."""
    with fs_app.app_context():
        resume = resumes.create_resume(owner, data, filename="cv.txt", name=None)
        db.session.execute(update(BackgroundJob).where(BackgroundJob.published_at.is_(None))
                           .values(published_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()
        sha256 = resume.sha256
        db.session.remove()
        return sha256


def test_storage_migrate_copies_verified_files_idempotently_and_deletes_sources_only_when_asked(
        app, client, user, tmp_path):
    files = tmp_path / "files"
    fs_app = create_app({**make_test_env(), "STORAGE_BACKEND": "filesystem", "STORAGE_DIR": str(files)})
    disk, owner = LocalFileStorage(files), owner_id(client, user)
    contents = {name: f"{name}\nPython, PostgreSQL {uuid.uuid4()}\n".encode() for name in "abcd"}
    keys = {name: resume_on_disk(fs_app, owner, data) for name, data in contents.items()}
    resume_on_disk(fs_app, owner, contents["a"])  # two resumes, one file
    unused = disk.path_for(sha256_hex(b"no resume uses this"))
    unused.parent.mkdir(parents=True, exist_ok=True)
    unused.write_bytes(b"no resume uses this")
    disk.path_for(keys["c"]).write_bytes(b"bit rot")
    disk.path_for(keys["d"]).unlink()

    def migrate(*options: str):
        result = app.test_cli_runner().invoke(args=["storage", "migrate", *options])
        return result.exit_code, result.output

    app.config["STORAGE_DIR"] = str(files)  # the default source
    code, output = migrate()
    assert code != 0 and "copied=2 already_there=0 missing=1 corrupt=1" in output
    assert f"corrupt: {keys['c']}" in output and f"missing: {keys['d']}" in output
    disk.path_for(keys["c"]).write_bytes(contents["c"])  # the operator restores them from a backup
    disk.path_for(keys["d"]).write_bytes(contents["d"])
    code, output = migrate("--source", str(files))
    assert code == 0 and "copied=2 already_there=2 missing=0 corrupt=0" in output, output
    assert all(disk.exists(key) for key in keys.values())  # sources kept unless asked
    code, output = migrate("--source", str(files), "--delete-source")
    assert code == 0 and "copied=0 already_there=4 missing=0 corrupt=0 deleted_sources=4" in output, output
    assert not any(disk.exists(key) for key in keys.values()) and unused.exists()
    for resume in client.get("/api/resumes", headers=user).json:
        download = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
        assert download.status_code == 200 and sha256_hex(download.data) == resume["sha256"]
        assert download.data in contents.values()


# --- no shared disk -------------------------------------------------------------------------------

def test_a_worker_without_any_shared_disk_extracts_an_upload_and_the_original_downloads_intact(
        client, user, workers, tmp_path):
    no_disk = tmp_path / "this-host-has-no-storage-dir"
    workers.worker.stop()  # only the worker below consumes extractions during this test
    elsewhere = stack.worker({**workers.env, "STORAGE_DIR": str(no_disk)}, workers.log_dir, name="extraction-no-disk")
    elsewhere.start()
    try:
        resume = upload(client, user, PDF, "John Doe.pdf").json
        extracted = wait_for_extraction(client, user, resume["id"])
    finally:
        elsewhere.stop()
    assert extracted["extraction_status"] == "succeeded", extracted
    assert "JOHN DOE" in extracted["text"] and "john.doe@email.com" in extracted["text"]
    assert resume["extraction_job_id"] in elsewhere.log_path.read_text()  # this worker ran it
    assert not no_disk.exists()
    assert not LocalFileStorage(STORAGE_DIR).exists(resume["sha256"])  # nor did the API write a file
    download = client.get(f"/api/resumes/{resume['id']}/file", headers=user)
    assert download.status_code == 200 and download.data == PDF
