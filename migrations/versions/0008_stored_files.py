"""stored files: uploaded originals in PostgreSQL, so a worker on any host reads them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:40:00

Files already under STORAGE_DIR stay there until ``flask storage migrate`` copies them in.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_stored_files_sha256_hex")),
        sa.CheckConstraint("size = octet_length(content)", name=op.f("ck_stored_files_size_matches_content")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_stored_files")),
    )


def downgrade():
    # Files only the database holds are lost: run with STORAGE_BACKEND=filesystem only after
    # copying them out.
    op.drop_table("stored_files")
