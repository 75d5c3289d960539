"""The dead-letter queue, for administrators: list, replay and discard dead jobs, and see
every queue's dead letters stuck on their way to it.

The same code as scripts/replay_dlq.py (services/dead_letters.py), so what one shows or
moves, the other sees.
"""
from __future__ import annotations

import uuid

import requests
from flask import current_app
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.queries import paginate
from api.schemas.dlq import (DeadLetterActionSchema, DeadLetterQuerySchema, DeadLetterSchema, DiscardSchema,
                             OutcomeSchema, QueueSchema, RequeueManySchema)
from api.security import admin_required
from models import BackgroundJob, DeadLetterAction
from services import dead_letters
from services.metrics import queue_stats

blp = Blueprint("dlq", __name__, url_prefix="/api/dlq", description="Dead-letter queue (administrators)")


def _selection(filters: dict, **extra) -> dead_letters.Selection:
    return dead_letters.Selection(kind=filters.get("kind"), error_class=filters.get("error_class"),
                                  since=filters.get("since"), until=filters.get("until"), **extra)


def _dead_job_or_404(job_id: uuid.UUID) -> BackgroundJob:
    jobs = dead_letters.dead_jobs(dead_letters.Selection(job_ids=(job_id,)))
    if not jobs:
        abort(404, message="No dead job with this id (it may have been replayed or discarded already).")
    return jobs[0]


def _act(jobs: list[BackgroundJob], action: str, note: str | None = None) -> dict:
    outcome = dead_letters.act(current_app.extensions["celery"], jobs, action,
                               actor=current_user.email, source="api", note=note)
    return outcome.as_dict()


@blp.route("")
@jwt_required()
@admin_required
@blp.arguments(DeadLetterQuerySchema(), location="query")
@blp.response(200, DeadLetterSchema(many=True))
@blp.alt_response(403, description="Not an administrator")
@blp.paginate()
def list_dead(filters: dict, pagination_parameters):
    """Dead jobs, oldest death first, with attempts, first and last failure and last error"""
    statement = _selection(filters).statement().options(selectinload(BackgroundJob.failures))
    return paginate(statement, pagination_parameters)


@blp.route("/<uuid:dead_job_id>/requeue", methods=["POST"])
@jwt_required()
@admin_required
@blp.response(200, OutcomeSchema)
@blp.alt_response(403, description="Not an administrator")
def requeue_one(dead_job_id: uuid.UUID):
    """Replay one dead job: reset its attempts and republish it with confirms"""
    return _act([_dead_job_or_404(dead_job_id)], "requeue")


@blp.route("/requeue", methods=["POST"])
@jwt_required()
@admin_required
@blp.arguments(RequeueManySchema())
@blp.response(200, OutcomeSchema)
@blp.alt_response(403, description="Not an administrator")
def requeue_many(body: dict):
    """Replay dead jobs chosen by ids or by a filter (at most `limit`)"""
    selection = _selection(body, job_ids=tuple(body.get("ids", ())), limit=body["limit"])
    return _act(dead_letters.dead_jobs(selection), "requeue")


@blp.route("/<uuid:dead_job_id>", methods=["DELETE"])
@jwt_required()
@admin_required
@blp.arguments(DiscardSchema(), location="query")
@blp.response(200, OutcomeSchema)
@blp.alt_response(403, description="Not an administrator")
def discard_one(query: dict, dead_job_id: uuid.UUID):
    """Discard a dead job: its message leaves the queue, the decision is recorded"""
    return _act([_dead_job_or_404(dead_job_id)], "discard", note=query.get("note"))


@blp.route("/actions")
@jwt_required()
@admin_required
@blp.response(200, DeadLetterActionSchema(many=True))
@blp.alt_response(403, description="Not an administrator")
@blp.paginate()
def actions(pagination_parameters):
    """Every replay and discard, newest first: who, when, what, through the API or the script"""
    statement = select(DeadLetterAction).order_by(DeadLetterAction.at.desc(), DeadLetterAction.id.desc())
    return paginate(statement, pagination_parameters)


@blp.route("/queues")
@jwt_required()
@admin_required
@blp.response(200, QueueSchema(many=True))
@blp.alt_response(403, description="Not an administrator")
def queues():
    """Every queue of the app, the dead-letter queue last: messages ready and unacknowledged,
    dead letters stuck inside it (`messages_dlx`), consumers — from RabbitMQ's management API,
    up to 5 s behind"""
    try:
        return queue_stats(current_app.config)
    except requests.RequestException as exc:
        abort(503, message=f"RabbitMQ's management API did not answer ({type(exc).__name__}); retry shortly.",
              headers={"Retry-After": "5"})
