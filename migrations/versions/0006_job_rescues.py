"""job rescues: what the safety-net sweep settled, and the index it scans

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_rescues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('released', 'failed', 'cancelled')", name=op.f("ck_job_rescues_action_known")),
        sa.ForeignKeyConstraint(["job_id"], ["background_jobs.id"], name=op.f("fk_job_rescues_job_id_background_jobs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_rescues")),
    )
    op.create_index(op.f("ix_job_rescues_job_id"), "job_rescues", ["job_id"], unique=False)
    op.create_index("ix_background_jobs_waiting", "background_jobs", ["updated_at"], unique=False,
                    postgresql_where=sa.text("state = 'waiting'"))


def downgrade():
    op.drop_index("ix_background_jobs_waiting", table_name="background_jobs", postgresql_where=sa.text("state = 'waiting'"))
    op.drop_index(op.f("ix_job_rescues_job_id"), table_name="job_rescues")
    op.drop_table("job_rescues")
