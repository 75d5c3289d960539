"""Liveness and readiness probes (no authentication: load balancers call them)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from services.readiness import readiness

blp = Blueprint("health", __name__, url_prefix="/api", description="Health checks")


class NodeCheckSchema(ma.Schema):
    ok = ma.fields.Boolean()
    latency_ms = ma.fields.Float()
    error = ma.fields.String()


class CheckSchema(NodeCheckSchema):
    nodes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(NodeCheckSchema), metadata={
        "description": "broker only: each node of BROKER_URL (host:port) and whether it accepts a connection; "
                       "the broker is ok while any node does (quorum queues are served from any node)"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ready or not_ready"})
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CheckSchema),
                            metadata={"description": "database, broker and (when configured) llm"})


class LivenessSchema(ma.Schema):
    status = ma.fields.String()


@blp.route("/health")
@blp.response(200, LivenessSchema)
@blp.doc(security=[])
def health():
    """The process is alive (checks nothing else)"""
    return {"status": "ok"}


@blp.route("/ready")
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="A dependency is unreachable")
@blp.doc(security=[])
def ready():
    """Database, broker and LLM endpoint reachable, each reported separately; 503 if any is not"""
    ok, checks = readiness()
    body = {"status": "ready" if ok else "not_ready", "checks": checks}
    if ok:
        return body
    return body, 503, {"Retry-After": "5"}
