"""Statistics over one user's applications, read from the counters that the database's
triggers keep (migration 0010): a few rows per user however long their history is."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from models import db

# A stage's mean time: its closed stints' seconds plus each open stint up to now, over the
# number of stints. Deleted applications are not in the counters.
_BY_STATUS = text(
    """
    SELECT s.slug AS status,
           COALESCE(t.applications, 0) AS count,
           COALESCE(t.closed_stints + t.open_stints, 0) AS samples,
           (t.closed_seconds + t.open_stints * EXTRACT(EPOCH FROM now()) - t.open_since)
               / NULLIF(t.closed_stints + t.open_stints, 0) / 86400.0 AS mean_days
    FROM application_statuses s
    LEFT JOIN application_stage_stats t ON t.status = s.slug AND t.user_id = :user_id
    ORDER BY s.position
    """
)

_BY_WEEK = text(
    """
    SELECT week_start, applications AS count FROM application_week_counts
    WHERE user_id = :user_id AND applications > 0
    ORDER BY week_start
    """
)


def application_stats(user_id: uuid.UUID) -> dict:
    params = {"user_id": user_id}
    rows = db.session.execute(_BY_STATUS, params).all()
    return {
        "total": sum(row.count for row in rows),
        "by_status": [{"status": row.status, "count": row.count} for row in rows],
        "by_week": [dict(row._mapping) for row in db.session.execute(_BY_WEEK, params)],
        "time_in_stage": [
            {
                "status": row.status,
                "mean_days": round(float(row.mean_days), 3) if row.mean_days is not None else None,
                "samples": row.samples,
            }
            for row in rows
        ],
    }
