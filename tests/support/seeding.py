"""History that would take the API minutes to build, inserted directly: shared by the priority
test and the priority benchmark."""
from __future__ import annotations

import uuid

from sqlalchemy import text

_SEED = text("""
    WITH listings AS (
        INSERT INTO job_listings (id, user_id, company, title, description, created_at, updated_at)
        SELECT gen_random_uuid(), :user_id, 'Company ' || n, 'ML Engineer ' || n, :description, now(), now()
        FROM generate_series(1, :count) AS n RETURNING id
    ), jobs AS (
        INSERT INTO background_jobs (id, kind, user_id, subject_id, state, attempts, lane, created_at,
                                     updated_at, published_at, finished_at)
        SELECT gen_random_uuid(), 'analysis', :user_id, gen_random_uuid(), 'succeeded', 1, 'interactive',
               now(), now(), now(), now()
        FROM listings RETURNING id, subject_id
    ), paired AS (
        SELECT l.id AS listing_id, j.id AS job_id, j.subject_id AS analysis_id
        FROM (SELECT id, row_number() OVER () AS n FROM listings) l
        JOIN (SELECT id, subject_id, row_number() OVER () AS n FROM jobs) j USING (n)
    )
    INSERT INTO analyses (id, user_id, resume_id, job_listing_id, job_id, input_hash, analyzer,
                          analyzer_version, model, prompt_version, score, verdict, created_at, updated_at)
    SELECT analysis_id, :user_id, :resume_id, listing_id, job_id, md5(listing_id::text), 'llm', 'old',
           'fake-model', 'old', 40, 'partial_match', now() - interval '30 days', now()
    FROM paired
""")


def seed_old_llm_results(session, user_id: uuid.UUID, resume_id: str, count: int, description: str) -> None:
    """``count`` listings, each with an old LLM result for the resume (as if made by an earlier
    prompt version): what a bulk re-analysis would refresh."""
    session.execute(_SEED, {"user_id": user_id, "resume_id": resume_id, "count": count, "description": description})
    session.commit()
