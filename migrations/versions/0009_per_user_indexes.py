"""per-user indexes: a page, a filter, a search and a total cost what they return, not what
the user has stored

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:05:00

The list's default order (newest application first) is read from an index that stops at the
page; tags and the substring search use GIN indexes that lead with the user (btree_gin), the
search with trigrams (pg_trgm), so another user's matches are never read.
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("CREATE INDEX ix_applications_user_applied ON applications "
               "(user_id, applied_at DESC NULLS LAST, id) WHERE deleted_at IS NULL")
    op.drop_index("ix_applications_tags", table_name="applications")
    op.execute("CREATE INDEX ix_applications_user_tags ON applications USING gin (user_id, tags)")
    op.execute("CREATE INDEX ix_applications_user_notes_trgm ON applications USING gin (user_id, notes gin_trgm_ops)")
    op.execute("CREATE INDEX ix_job_listings_user_created ON job_listings (user_id, created_at DESC NULLS LAST, id)")
    op.execute("CREATE INDEX ix_job_listings_user_search_trgm ON job_listings "
               "USING gin (user_id, company gin_trgm_ops, title gin_trgm_ops)")


def downgrade():
    op.drop_index("ix_job_listings_user_search_trgm", table_name="job_listings")
    op.drop_index("ix_job_listings_user_created", table_name="job_listings")
    op.drop_index("ix_applications_user_notes_trgm", table_name="applications")
    op.drop_index("ix_applications_user_tags", table_name="applications")
    op.create_index("ix_applications_tags", "applications", ["tags"], postgresql_using="gin")
    op.drop_index("ix_applications_user_applied", table_name="applications")
    # The extensions stay: other objects may use them.
