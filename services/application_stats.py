"""Statistics over one user's applications, computed in the database."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from models import db

# Each status change opens a stint that lasts until the next change of the same application,
# or until now for the stage it is still in. Deleted applications do not count.
_TIME_IN_STAGE = text(
    """
    WITH stints AS (
        SELECT c.to_status AS status,
               COALESCE(LEAD(c.changed_at) OVER w, now()) - c.changed_at AS duration
        FROM application_status_changes c
        JOIN applications a ON a.id = c.application_id
        WHERE a.user_id = :user_id AND a.deleted_at IS NULL
        WINDOW w AS (PARTITION BY c.application_id ORDER BY c.changed_at, c.id)
    )
    SELECT s.slug AS status,
           AVG(EXTRACT(EPOCH FROM stints.duration)) / 86400.0 AS mean_days,
           COUNT(stints.status) AS samples
    FROM application_statuses s
    LEFT JOIN stints ON stints.status = s.slug
    GROUP BY s.slug, s.position
    ORDER BY s.position
    """
)

_BY_STATUS = text(
    """
    SELECT s.slug AS status, COUNT(a.id) AS count
    FROM application_statuses s
    LEFT JOIN applications a ON a.status = s.slug AND a.user_id = :user_id AND a.deleted_at IS NULL
    GROUP BY s.slug, s.position
    ORDER BY s.position
    """
)

_BY_WEEK = text(
    """
    SELECT date_trunc('week', applied_at AT TIME ZONE 'UTC')::date AS week_start, COUNT(*) AS count
    FROM applications
    WHERE user_id = :user_id AND deleted_at IS NULL AND applied_at IS NOT NULL
    GROUP BY week_start
    ORDER BY week_start
    """
)


def application_stats(user_id: uuid.UUID) -> dict:
    params = {"user_id": user_id}
    by_status = [dict(row._mapping) for row in db.session.execute(_BY_STATUS, params)]
    time_in_stage = [
        {
            "status": row.status,
            "mean_days": round(float(row.mean_days), 3) if row.mean_days is not None else None,
            "samples": row.samples,
        }
        for row in db.session.execute(_TIME_IN_STAGE, params)
    ]
    return {
        "total": sum(row["count"] for row in by_status),
        "by_status": by_status,
        "by_week": [dict(row._mapping) for row in db.session.execute(_BY_WEEK, params)],
        "time_in_stage": time_in_stage,
    }
