"""Schemas for the dead-letter queue API."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.schemas.common import UtcDateTime

from models.background_job import JobKind


class DeadLetterQuerySchema(ma.Schema):
    kind = ma.fields.String(validate=validate.OneOf([k.value for k in JobKind]))
    error_class = ma.fields.String(validate=validate.Length(max=200))
    since = UtcDateTime(default_timezone=None, metadata={"description": "Died at or after"})
    until = UtcDateTime(default_timezone=None, metadata={"description": "Died at or before"})


class DeadLetterSchema(ma.Schema):
    id = ma.fields.UUID(metadata={"description": "The job id (also the Celery task id)"})
    kind = ma.fields.String()
    task = ma.fields.String(attribute="task_name")
    subject_id = ma.fields.UUID(metadata={"description": "The resume (extraction) or analysis it worked on"})
    user_id = ma.fields.UUID(allow_none=True)
    attempts = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    died_at = ma.fields.DateTime(attribute="finished_at")
    first_failure_at = ma.fields.Method("_first_failure")
    last_failure_at = ma.fields.Method("_last_failure")
    last_error_class = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)

    def _first_failure(self, job):
        return job.failures[0].failed_at.isoformat() if job.failures else None

    def _last_failure(self, job):
        return job.failures[-1].failed_at.isoformat() if job.failures else None


class RequeueManySchema(DeadLetterQuerySchema):
    ids = ma.fields.List(ma.fields.UUID(), validate=validate.Length(min=1, max=1000),
                         metadata={"description": "Job ids; omit to select by the filter fields"})
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))

    @ma.validates_schema
    def something_selected(self, data, **kwargs):
        if not set(data) & {"ids", "kind", "error_class", "since", "until"}:
            raise ma.ValidationError("Give ids or at least one filter (kind, error_class, since, until).")


class DiscardSchema(ma.Schema):
    note = ma.fields.String(validate=validate.Length(max=500), metadata={"description": "Why, for the record"})


class OutcomeSchema(ma.Schema):
    requeued = ma.fields.List(ma.fields.String())
    discarded = ma.fields.List(ma.fields.String())
    stale_messages_removed = ma.fields.List(ma.fields.String())
    replayed_without_broker_message = ma.fields.List(ma.fields.String())
    unknown_messages = ma.fields.Integer()


class DeadLetterActionSchema(ma.Schema):
    job_id = ma.fields.UUID()
    action = ma.fields.String()
    actor = ma.fields.String()
    source = ma.fields.String(metadata={"description": "api or cli"})
    at = ma.fields.DateTime()
    note = ma.fields.String(allow_none=True)


class QueueSchema(ma.Schema):
    name = ma.fields.String()
    declared = ma.fields.Boolean(metadata={"description": "False: the broker has no such queue"})
    messages_ready = ma.fields.Integer(attribute="ready", metadata={"description": "Waiting for a consumer"})
    messages_unacknowledged = ma.fields.Integer(attribute="unacked",
                                                metadata={"description": "Delivered, not yet acknowledged"})
    messages_dlx = ma.fields.Integer(attribute="dlx", metadata={
        "description": "Dead letters this quorum queue holds because the dead-letter exchange did not route "
                       "them to the dead-letter queue (the broker retries every 3 minutes); always 0 for a "
                       "classic queue. Above 0, dead letters are stuck: fix the dead-letter queue's binding"})
    consumers = ma.fields.Integer(metadata={"description": "Worker consumers (0: nothing takes its messages)"})
    members = ma.fields.List(ma.fields.String(), metadata={
        "description": "Quorum queues: the broker nodes holding a replica (fewer than min(3, nodes in the cluster): "
                       "losing a node can lose messages; grow it with `rabbitmq-queues grow`)"})
    online = ma.fields.List(ma.fields.String(), metadata={
        "description": "The members reachable now; the queue is served while a majority of its members is online"})
    leader = ma.fields.String(allow_none=True, metadata={"description": "The node leading the quorum queue"})
