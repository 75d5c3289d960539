"""Resume uploads and their text extraction, as plain functions for views and tasks."""
from __future__ import annotations

import os
import re
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import func, select, text

from models import BackgroundJob, ExtractionStatus, JobKind, Resume, db
from models.mixins import utcnow
from services import analyses, jobs
from services.extraction import ExtractionFailed, FileKind, detect_kind, extract_text
from services.storage import Storage, sha256_hex

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


def _blob_lock(sha256: str) -> None:
    # Serialises "store a file + add a row" with "drop the file when no row uses it".
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": sha256})


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
    sha256 = sha256_hex(data)
    _blob_lock(sha256)
    storage().put(data)
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


def delete_resume(resume: Resume) -> None:
    """Delete the row, then the stored file if no other resume (of anyone) uses the same bytes."""
    sha256 = resume.sha256
    db.session.delete(resume)
    db.session.commit()
    _blob_lock(sha256)
    still_used = db.session.scalar(select(func.count()).where(Resume.sha256 == sha256))
    if not still_used:
        storage().delete(sha256)
    db.session.commit()


def file_download_name(resume: Resume) -> str:
    kind = FileKind(resume.file_kind)
    base = resume.original_filename or f"{resume.name}{EXTENSIONS[kind]}"
    return base if base.lower().endswith(EXTENSIONS[kind]) else base + EXTENSIONS[kind]


def extract_for_job(job: BackgroundJob) -> None:
    """The extraction task's work: read the stored bytes, extract, store text and success."""
    resume = db.session.get(Resume, job.subject_id)
    if resume is None:
        raise jobs.PermanentFailure("deleted", "The resume was deleted before its text was extracted.")
    resume.extraction_status = ExtractionStatus.RUNNING.value
    db.session.commit()
    data = storage().get(resume.sha256)
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
    resume.text = result.text
    resume.page_count = result.page_count
    resume.word_count = result.word_count
    resume.extracted_at = utcnow()
    resume.extraction_status = ExtractionStatus.SUCCEEDED.value
    resume.failure_reason = resume.failure_message = None
    jobs.succeed(job)
    analyses.release_waiting(resume.id)
    db.session.commit()


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
        if reason != jobs.PROCESSING_ERROR and resume.text is None:
            # Nothing will ever be read from this file; a dead-lettered extraction, by
            # contrast, may still be replayed, so its analyses keep waiting.
            analyses.fail_waiting(resume.id, reason)
