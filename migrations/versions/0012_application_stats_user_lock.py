"""one user's counter updates in one transaction at a time: a transaction-level advisory lock on
the user, taken before any counter row is locked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:35:00

Two requests of one user moving two applications at once (two quick drags on the board) lock
counter rows of several stages in two statements each (the application's row trigger, then its
history's statement trigger), and could each hold a row the other needs next: a deadlock. With
this lock taken by a BEFORE trigger, the second waits before touching any counter row. Only
writes that change what is counted take it (status, applied_at, deleted_at, the history), so the
follow-up sweep's updates across users never do.
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The lock's key space: (this class, a hash of the user id).
LOCK_CLASS = 1869636978

LOCK_FUNCTION = f"""
CREATE FUNCTION application_stats_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner uuid;
BEGIN
    IF TG_TABLE_NAME = 'applications' THEN
        owner := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
    ELSE
        SELECT user_id INTO owner FROM applications
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.application_id ELSE NEW.application_id END;
    END IF;
    IF owner IS NOT NULL THEN  -- NULL: the application is gone (a cascade), nothing is counted
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, hashtext(owner::text));
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def upgrade():
    op.execute(LOCK_FUNCTION)
    op.execute("CREATE TRIGGER applications_stats_lock BEFORE INSERT OR DELETE ON applications "
               "FOR EACH ROW EXECUTE FUNCTION application_stats_lock()")
    op.execute("CREATE TRIGGER applications_stats_lock_update BEFORE UPDATE ON applications FOR EACH ROW "
               "WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.applied_at IS DISTINCT FROM NEW.applied_at "
               "OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) EXECUTE FUNCTION application_stats_lock()")
    op.execute("CREATE TRIGGER application_status_changes_stats_lock BEFORE INSERT OR UPDATE OR DELETE "
               "ON application_status_changes FOR EACH ROW EXECUTE FUNCTION application_stats_lock()")


def downgrade():
    op.execute("DROP TRIGGER application_status_changes_stats_lock ON application_status_changes")
    op.execute("DROP TRIGGER applications_stats_lock_update ON applications")
    op.execute("DROP TRIGGER applications_stats_lock ON applications")
    op.execute("DROP FUNCTION application_stats_lock()")
