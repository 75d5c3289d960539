"""Resume tasks (queue ``extraction``, a prefork pool: parsing is CPU-bound)."""
from __future__ import annotations

from celery import shared_task

from services.resumes import extract_for_job, extraction_failed
from tasks.base import JobTask


@shared_task(name="resumes.extract", base=JobTask, bind=True)
def extract(self: JobTask, job_id: str) -> None:
    """Extract the text of the resume that job ``job_id`` names."""
    self.run_job(job_id, extract_for_job, extraction_failed)
