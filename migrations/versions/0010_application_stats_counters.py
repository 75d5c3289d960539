"""application statistics kept as per-user counters by triggers, so GET /api/applications/stats
reads a few rows instead of rescanning every application and stage change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 19:10:00

``application_stage_stats`` holds, per user and stage: the live (not deleted) applications in
it, and the stints spent in it as the stage history defines them (a change opens a stint that
the application's next change closes; the last one is still open). Closed stints are kept as a
count and a sum of seconds, open ones as a count and the sum of their start times (epoch), so
"up to now" is ``open_stints * now - open_since``. ``application_week_counts`` holds the live
applications sent per ISO week (UTC). Numeric sums: the counters are exact, and the API answers
what the old full scan answered.

Triggers keep them:
- on applications, row by row: the stage count and the week count move with status, applied_at
  and deleted_at; deleting or restoring an application takes its whole history's stints out of,
  or back into, its stages; so does deleting a live application outright;
- on application_status_changes, per statement (with its transition tables): the touched
  applications' stints are recomputed from their histories before and after the statement, and
  the difference is added. Row by row would be wrong when one statement inserts two changes of
  one application.
Counter rows are written in (user, stage) order, so two transactions of one user lock them in
the same order. A user deleted outright takes their counters with them (the triggers skip a user
that is gone).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The stints of the live applications among ``ids``, per (user, stage), as the history stood
# with the rows ``added`` left out and the rows ``removed`` (a JSON array of rows) put back (sign -1), and as it stands
# (sign +1). With both arrays empty and one sign, it is one application's whole contribution
# (``deleted_too``: also when it is deleted, to take it out as it is deleted).
STAGE_STATS_SHIFT = """
CREATE FUNCTION application_stage_stats_shift(ids uuid[], added bigint[], removed jsonb,
                                              before_sign int, after_sign int,
                                              deleted_too boolean DEFAULT false) RETURNS void
LANGUAGE sql AS $$
    WITH live AS (
        SELECT a.id, a.user_id FROM applications a JOIN users u ON u.id = a.user_id
        WHERE a.id = ANY(ids) AND (a.deleted_at IS NULL OR deleted_too)
    ),
    now_rows AS (
        SELECT c.id, c.application_id, c.to_status, c.changed_at
        FROM application_status_changes c JOIN live ON live.id = c.application_id
    ),
    then_rows AS (
        SELECT * FROM now_rows WHERE NOT (id = ANY(COALESCE(added, '{}')))
        UNION ALL
        SELECT r.id, r.application_id, r.to_status, r.changed_at
        FROM jsonb_to_recordset(COALESCE(removed, '[]'))
             AS r(id bigint, application_id uuid, to_status text, changed_at timestamptz)
        JOIN live ON live.id = r.application_id
    ),
    stints AS (
        SELECT after_sign AS sign, application_id, to_status, changed_at,
               LEAD(changed_at) OVER (PARTITION BY application_id ORDER BY changed_at, id) AS ended_at
        FROM now_rows
        UNION ALL
        SELECT before_sign, application_id, to_status, changed_at,
               LEAD(changed_at) OVER (PARTITION BY application_id ORDER BY changed_at, id)
        FROM then_rows
    ),
    delta AS (
        SELECT live.user_id, s.to_status AS status,
               SUM(s.sign) FILTER (WHERE s.ended_at IS NOT NULL) AS closed_stints,
               SUM(s.sign * EXTRACT(EPOCH FROM s.ended_at - s.changed_at)) FILTER (WHERE s.ended_at IS NOT NULL)
                   AS closed_seconds,
               SUM(s.sign) FILTER (WHERE s.ended_at IS NULL) AS open_stints,
               SUM(s.sign * EXTRACT(EPOCH FROM s.changed_at)) FILTER (WHERE s.ended_at IS NULL) AS open_since
        FROM stints s JOIN live ON live.id = s.application_id
        WHERE s.sign <> 0
        GROUP BY live.user_id, s.to_status
    )
    INSERT INTO application_stage_stats AS t (user_id, status, applications, closed_stints, closed_seconds,
                                             open_stints, open_since)
    SELECT user_id, status, 0, COALESCE(closed_stints, 0), COALESCE(closed_seconds, 0),
           COALESCE(open_stints, 0), COALESCE(open_since, 0)
    FROM delta ORDER BY user_id, status
    ON CONFLICT (user_id, status) DO UPDATE SET
        closed_stints = t.closed_stints + excluded.closed_stints,
        closed_seconds = t.closed_seconds + excluded.closed_seconds,
        open_stints = t.open_stints + excluded.open_stints,
        open_since = t.open_since + excluded.open_since
$$
"""

STATUS_CHANGES_TRIGGER = """
CREATE FUNCTION application_status_changes_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM application_stage_stats_shift(
            (SELECT array_agg(DISTINCT application_id) FROM new_rows), (SELECT array_agg(id)::bigint[] FROM new_rows),
            '[]', -1, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM application_stage_stats_shift(
            (SELECT array_agg(DISTINCT application_id) FROM old_rows), '{}', (SELECT jsonb_agg(o) FROM old_rows o),
            -1, 1);
    ELSE
        PERFORM application_stage_stats_shift(
            (SELECT array_agg(DISTINCT application_id)
             FROM (SELECT application_id FROM new_rows UNION SELECT application_id FROM old_rows) touched),
            (SELECT array_agg(id)::bigint[] FROM new_rows), (SELECT jsonb_agg(o) FROM old_rows o), -1, 1);
    END IF;
    RETURN NULL;
END
$$
"""

APPLICATIONS_TRIGGER = """
CREATE FUNCTION applications_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    was_live boolean := TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL;
    is_live boolean := TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL;
    owner uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
        RETURN NULL;  -- the user is being deleted, and their counters with them
    END IF;
    INSERT INTO application_stage_stats AS t (user_id, status, applications)
    SELECT owner, status, SUM(delta) FROM (
        SELECT OLD.status AS status, -1 AS delta WHERE was_live
        UNION ALL SELECT NEW.status, 1 WHERE is_live
    ) d GROUP BY status ORDER BY status
    ON CONFLICT (user_id, status) DO UPDATE SET applications = t.applications + excluded.applications;

    INSERT INTO application_week_counts AS t (user_id, week_start, applications)
    SELECT owner, week_start, SUM(delta) FROM (
        SELECT date_trunc('week', OLD.applied_at AT TIME ZONE 'UTC')::date AS week_start, -1 AS delta
        WHERE was_live AND OLD.applied_at IS NOT NULL
        UNION ALL SELECT date_trunc('week', NEW.applied_at AT TIME ZONE 'UTC')::date, 1
        WHERE is_live AND NEW.applied_at IS NOT NULL
    ) d GROUP BY week_start ORDER BY week_start
    ON CONFLICT (user_id, week_start) DO UPDATE SET applications = t.applications + excluded.applications;

    -- Deleted, restored, or deleted outright while live: the whole history's stints leave or
    -- come back. (The history's own changes are counted by its trigger.)
    IF TG_OP = 'UPDATE' AND was_live AND NOT is_live THEN
        PERFORM application_stage_stats_shift(ARRAY[NEW.id], '{}', '[]', 0, -1, deleted_too => true);
    ELSIF TG_OP = 'UPDATE' AND is_live AND NOT was_live THEN
        PERFORM application_stage_stats_shift(ARRAY[NEW.id], '{}', '[]', 0, 1);
    END IF;
    RETURN NULL;
END
$$
"""

# Deleting a live application outright: its stints leave while its row and history still exist
# (the cascade deletes the history afterwards, when the application is no longer there to count).
APPLICATIONS_DELETE_TRIGGER = """
CREATE FUNCTION applications_stats_before_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted_at IS NULL THEN
        PERFORM application_stage_stats_shift(ARRAY[OLD.id], '{}', '[]', 0, -1);
    END IF;
    RETURN OLD;
END
$$
"""

BACKFILL = """
INSERT INTO application_stage_stats (user_id, status, applications, closed_stints, closed_seconds, open_stints,
                                     open_since)
SELECT user_id, status, SUM(applications), SUM(closed_stints), SUM(closed_seconds), SUM(open_stints),
       SUM(open_since)
FROM (
    SELECT user_id, status, 1 AS applications, 0 AS closed_stints, 0 AS closed_seconds, 0 AS open_stints,
           0 AS open_since
    FROM applications WHERE deleted_at IS NULL
    UNION ALL
    SELECT a.user_id, c.to_status, 0,
           CASE WHEN c.ended_at IS NOT NULL THEN 1 ELSE 0 END,
           COALESCE(EXTRACT(EPOCH FROM c.ended_at - c.changed_at), 0),
           CASE WHEN c.ended_at IS NULL THEN 1 ELSE 0 END,
           CASE WHEN c.ended_at IS NULL THEN EXTRACT(EPOCH FROM c.changed_at) ELSE 0 END
    FROM (SELECT application_id, to_status, changed_at,
                 LEAD(changed_at) OVER (PARTITION BY application_id ORDER BY changed_at, id) AS ended_at
          FROM application_status_changes) c
    JOIN applications a ON a.id = c.application_id AND a.deleted_at IS NULL
) parts
GROUP BY user_id, status;

INSERT INTO application_week_counts (user_id, week_start, applications)
SELECT user_id, date_trunc('week', applied_at AT TIME ZONE 'UTC')::date, COUNT(*)
FROM applications WHERE deleted_at IS NULL AND applied_at IS NOT NULL
GROUP BY 1, 2;
"""


def upgrade():
    op.create_table(
        "application_stage_stats",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("applications", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("closed_stints", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("closed_seconds", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("open_stints", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("open_since", sa.Numeric(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_application_stage_stats_user_id_users")),
        sa.ForeignKeyConstraint(["status"], ["application_statuses.slug"],
                                name=op.f("fk_application_stage_stats_status_application_statuses")),
        sa.PrimaryKeyConstraint("user_id", "status", name=op.f("pk_application_stage_stats")),
    )
    op.create_table(
        "application_week_counts",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("applications", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_application_week_counts_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "week_start", name=op.f("pk_application_week_counts")),
    )
    # No change may slip between the backfill and the triggers.
    op.execute("LOCK TABLE applications, application_status_changes IN SHARE ROW EXCLUSIVE MODE")
    op.execute(STAGE_STATS_SHIFT)
    op.execute(STATUS_CHANGES_TRIGGER)
    op.execute(APPLICATIONS_TRIGGER)
    op.execute(APPLICATIONS_DELETE_TRIGGER)
    for event, transition in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                              ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER application_status_changes_stats_{event.lower()} AFTER {event} "
                   f"ON application_status_changes REFERENCING {transition} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION application_status_changes_stats()")
    op.execute("CREATE TRIGGER applications_stats_insert AFTER INSERT ON applications "
               "FOR EACH ROW EXECUTE FUNCTION applications_stats()")
    op.execute("CREATE TRIGGER applications_stats_update AFTER UPDATE ON applications FOR EACH ROW "
               "WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.applied_at IS DISTINCT FROM NEW.applied_at "
               "OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) EXECUTE FUNCTION applications_stats()")
    op.execute("CREATE TRIGGER applications_stats_delete AFTER DELETE ON applications "
               "FOR EACH ROW EXECUTE FUNCTION applications_stats()")
    op.execute("CREATE TRIGGER applications_stats_before_delete BEFORE DELETE ON applications "
               "FOR EACH ROW EXECUTE FUNCTION applications_stats_before_delete()")
    op.execute(BACKFILL)


def downgrade():
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER application_status_changes_stats_{event} ON application_status_changes")
    for name in ("insert", "update", "delete", "before_delete"):
        op.execute(f"DROP TRIGGER applications_stats_{name} ON applications")
    op.execute("DROP FUNCTION applications_stats_before_delete()")
    op.execute("DROP FUNCTION applications_stats()")
    op.execute("DROP FUNCTION application_status_changes_stats()")
    op.execute("DROP FUNCTION application_stage_stats_shift(uuid[], bigint[], jsonb, int, int, boolean)")
    op.drop_table("application_week_counts")
    op.drop_table("application_stage_stats")
