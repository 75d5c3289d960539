"""indexes by age for the retention sweeps, and partial indexes for the scans that must not
read finished jobs (the dead-letter listing, the stuck-jobs sweep)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 19:25:00

Each retention sweep (services/retention.py) starts from the rows old enough to go, and each
operator or maintenance scan from the few rows in its state, so neither reads the finished
history however long it is.
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    # The retention sweep's finished jobs (analysis jobs go with their analyses).
    ("ix_background_jobs_finished", "background_jobs (finished_at) "
     "WHERE state IN ('succeeded', 'failed', 'cancelled') AND kind <> 'analysis'"),
    ("ix_background_jobs_discarded", "background_jobs (discarded_at) WHERE state = 'dead' AND discarded_at IS NOT NULL"),
    # The dead-letter listing, in its order: dead jobs awaiting an operator.
    ("ix_background_jobs_dead", "background_jobs (finished_at, id) WHERE state = 'dead' AND discarded_at IS NULL"),
    # The stuck-jobs sweep and the running-past-limit metric.
    ("ix_background_jobs_running", "background_jobs (started_at) WHERE state = 'running'"),
    ("ix_analyses_created_at", "analyses (created_at)"),
    ("ix_idempotency_keys_created_at", "idempotency_keys (created_at)"),
    # An analysis's keys: checked by the sweep, and by the cascade when an analysis goes.
    ("ix_idempotency_keys_analysis_id", "idempotency_keys (analysis_id)"),
    ("ix_job_failures_failed_at", "job_failures (failed_at)"),
    # A resume's extraction job stays while the resume names it.
    ("ix_resumes_extraction_job_id", "resumes (extraction_job_id)"),
)


def upgrade():
    for name, definition in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade():
    for name, _ in reversed(INDEXES):
        op.execute(f"DROP INDEX {name}")
