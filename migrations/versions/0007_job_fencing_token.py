"""background job fencing token: a late worker's outcome cannot overwrite a newer claim's

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column("background_jobs", sa.Column("fencing_token", sa.BigInteger(), nullable=False,
                                               server_default="0"))


def downgrade():
    op.drop_column("background_jobs", "fencing_token")
