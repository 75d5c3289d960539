"""Bulk re-analysis tasks (queue ``analysis_bulk``, the low-priority lane's own workers)."""
from __future__ import annotations

from celery import shared_task

from services.bulk import expand_for_job, expansion_failed
from tasks.base import JobTask


@shared_task(name="bulk.expand", base=JobTask, bind=True)
def expand(self: JobTask, job_id: str) -> None:
    """Create the analyses of the bulk run that job ``job_id`` expands."""
    self.run_job(job_id, expand_for_job, expansion_failed)
