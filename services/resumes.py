"""Resume uploads and their text extraction, as plain functions for views and tasks."""
from __future__ import annotations

import os
import re
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import select, update

from models import Analysis, BackgroundJob, ExtractionStatus, JobKind, Resume, db, lock_row
from models.mixins import utcnow
from services import jobs, waiting
from services.extraction import ExtractionFailed, FileKind, detect_kind, extract_text
from services.storage import Storage

CONTENT_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.TEXT: "text/plain; charset=utf-8",
}
EXTENSIONS = {FileKind.PDF: ".pdf", FileKind.DOCX: ".docx", FileKind.TEXT: ".txt"}
_UNSAFE_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f\"\\/]")


class UploadRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def storage() -> Storage:
    return current_app.extensions["storage"]


def display_filename(filename: str | None) -> str | None:
    """The client's file name reduced to something safe to show and to put in a header:
    no directories, no control characters or quotes, at most 255 characters."""
    if not filename:
        return None
    name = re.split(r"[\\/]", filename)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("", name).strip().lstrip(".")
    return name[:255] or None


def create_resume(user_id: uuid.UUID, data: bytes, *, filename: str | None, name: str | None,
                  request_id: str | None = None) -> Resume:
    """Store the upload, add the resume and its extraction job; the caller commits."""
    limit = current_app.config["RESUME_MAX_BYTES"]
    if len(data) > limit:
        raise UploadRejected(413, f"The file is {len(data):,} bytes; resumes are limited to {limit:,} bytes.")
    if not data:
        raise UploadRejected(422, "The file is empty.")
    kind = detect_kind(data)
    if kind is None:
        raise UploadRejected(422, "Unsupported file type: upload a PDF, a Word document (.docx) or plain text. "
                                  "The type is read from the file's contents, not its name.")
    # In this transaction, holding the key until it commits: see remove_file_if_unused.
    sha256 = storage().put(data)
    safe_name = display_filename(filename)
    resume = Resume(
        id=uuid.uuid4(), user_id=user_id, name=(name or (os.path.splitext(safe_name)[0] if safe_name else "") or "Resume")[:200],
        original_filename=safe_name, file_kind=kind.value, content_type=CONTENT_TYPES[kind],
        size_bytes=len(data), sha256=sha256, extraction_status=ExtractionStatus.QUEUED.value,
    )
    db.session.add(resume)
    queue_extraction(resume, request_id=request_id)
    return resume


def queue_extraction(resume: Resume, *, request_id: str | None = None) -> BackgroundJob:
    job = jobs.enqueue(JobKind.RESUME_EXTRACTION.value, resume.id, user_id=resume.user_id, request_id=request_id)
    resume.extraction_job_id = job.id
    resume.extraction_status = ExtractionStatus.QUEUED.value
    return job


def extraction_in_progress(resume: Resume) -> bool:
    return resume.extraction_status in (ExtractionStatus.QUEUED.value, ExtractionStatus.RUNNING.value)


def delete_resume(resume: Resume) -> bool:
    """Delete the row and cancel its work not started, then the stored file if no other resume
    (of anyone) uses the same bytes. False when a concurrent request deleted it first."""
    sha256 = resume.sha256
    # Locked first: a request adding an analysis of this resume either commits before (and its
    # job is cancelled below) or fails its foreign key after; an extraction or analysis running
    # now finds the rows gone when it writes, and fails as "deleted".
    if lock_row(Resume, resume.id) is None:
        return False
    of_resume = select(Analysis.job_id).where(Analysis.resume_id == resume.id).union_all(
        select(BackgroundJob.id).where(BackgroundJob.subject_id == resume.id))
    jobs.cancel_not_started(of_resume, "the resume was deleted")
    db.session.delete(resume)
    db.session.commit()
    remove_file_if_unused(sha256)
    db.session.commit()
    return True


def remove_file_if_unused(sha256: str) -> bool:
    """Remove the stored bytes unless a resume (of anyone) uses them; the caller commits.

    The key is locked first: an upload of the same bytes holds it from storing them until its
    resume row commits. So either the upload came first, and the check below (a new statement,
    with a snapshot taken after the wait) sees its row; or this transaction locked the key
    first, and the upload's ``put`` waits for it, then stores the bytes again. Checking first and
    locking after (or checking inside the DELETE, whose snapshot predates the wait) would
    remove the bytes of the new resume (tests/test_storage.py)."""
    storage().lock(sha256)
    if db.session.scalar(select(Resume.id).where(Resume.sha256 == sha256).limit(1)) is not None:
        return False
    storage().delete(sha256)
    return True


def file_download_name(resume: Resume) -> str:
    kind = FileKind(resume.file_kind)
    base = resume.original_filename or f"{resume.name}{EXTENSIONS[kind]}"
    return base if base.lower().endswith(EXTENSIONS[kind]) else base + EXTENSIONS[kind]


def extract_for_job(job: BackgroundJob) -> None:
    """The extraction task's work: read the stored bytes, extract, store text and success."""
    resume = db.session.get(Resume, job.subject_id)
    if resume is None or not _mark_running(resume.id):
        raise _deleted_meanwhile()
    data = storage().get(resume.sha256)
    db.session.commit()  # no transaction (nor its snapshot) held open while the file is parsed
    try:
        result = extract_text(
            data, max_pages=current_app.config["RESUME_MAX_PAGES"], max_bytes=current_app.config["RESUME_MAX_BYTES"]
        )
    except ExtractionFailed as failure:
        # The parser turns every exception into a reason, the time limit's too.
        if _raised_during(failure, SoftTimeLimitExceeded):
            raise _took_too_long() from failure
        raise jobs.PermanentFailure(failure.reason.value, failure.message) from failure
    except SoftTimeLimitExceeded as exc:
        raise _took_too_long() from exc
    # The user may have deleted the resume while it was being read: lock the row before
    # writing, so that it cannot go between this check and the commit. FOR NO KEY UPDATE, as an
    # UPDATE takes: a delete waits for it, a request adding an analysis of this resume does not.
    resume = lock_row(Resume, job.subject_id, key_share=True)
    if resume is None:
        raise _deleted_meanwhile()
    resume.text = result.text
    resume.page_count = result.page_count
    resume.word_count = result.word_count
    resume.extracted_at = utcnow()
    resume.extraction_status = ExtractionStatus.SUCCEEDED.value
    resume.failure_reason = resume.failure_message = None
    jobs.succeed(job)
    waiting.settle_now(resume.id)
    db.session.commit()


def _mark_running(resume_id: uuid.UUID) -> bool:
    """Show the extraction as running; False when the resume is gone."""
    marked = db.session.execute(
        update(Resume).where(Resume.id == resume_id).values(extraction_status=ExtractionStatus.RUNNING.value)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(marked)


def _deleted_meanwhile() -> jobs.PermanentFailure:
    return jobs.PermanentFailure("deleted", "The resume was deleted before its text was extracted.")


def _took_too_long() -> jobs.PermanentFailure:
    return jobs.PermanentFailure(
        "too_large", "Reading this file took too long; it may be very large or damaged. "
        "Export it again as a simpler PDF and upload it again."
    )


def _raised_during(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def extraction_failed(job: BackgroundJob, reason: str, message: str) -> None:
    """A job's failure as the resume's owner sees it; text from an earlier success is kept."""
    resume = db.session.get(Resume, job.subject_id)
    if resume is not None and resume.extraction_job_id == job.id:
        resume.extraction_status = ExtractionStatus.FAILED.value
        resume.failure_reason = reason
        resume.failure_message = message[:500]
        # Nothing will ever be read from this file: its waiting analyses fail (a dead-lettered
        # extraction, by contrast, may still be replayed, so its analyses keep waiting).
        waiting.settle_now(resume.id)
