"""Analysis tasks (queue ``analysis``, a threads pool: the work waits on an LLM over HTTP)."""
from __future__ import annotations

from celery import shared_task

from services.analyses import analysis_failed, run_for_job
from tasks.base import JobTask


@shared_task(name="analysis.run", base=JobTask, bind=True)
def run(self: JobTask, job_id: str) -> None:
    """Analyse the resume/listing pair of the analysis that job ``job_id`` runs."""
    self.run_job(job_id, run_for_job, analysis_failed)
