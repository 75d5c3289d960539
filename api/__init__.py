"""The application factory: config, extensions, blueprints and error handlers."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, request
from flask_migrate import Migrate

from api.cli import register_commands
from api.errors import Api, init_session_teardown, register_error_handlers
from api.input_guard import init_input_guard
from api.metrics import init_metrics
from api.openapi import CommonResponsesPlugin
from api.rate_limits import init_rate_limits
from api.web import SWAGGER_UI_ASSETS, init_web
from api.web_security import init_web_security
from api.request_id import init_request_id
from api.security import init_jwt
from api.transactions import init_read_transactions
from config import load_settings
from models import db
from models.connections import init_connection_checks
from services.logging_setup import configure_logging
from services.passwords import PasswordHashing
from services.storage import storage_from_config
from tasks import celery_init_app

API_TITLE = "Applytrack API"
API_VERSION = "1.0.0"

migrate = Migrate()


def create_app(env: Mapping[str, str] | None = None, **overrides) -> Flask:
    """Build the app from ``env`` (``os.environ`` by default); ``overrides`` win, for tests."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.update(load_settings(env, instance_path=Path(app.instance_path)))
    app.config.update(overrides)
    app.config.update(_api_spec_settings())

    configure_logging(app.config["LOG_LEVEL"])
    init_request_id(app)
    db.init_app(app)
    init_connection_checks(app)
    init_session_teardown(app)
    init_read_transactions(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    init_jwt(app)
    api = Api(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
                                "extra_plugins": [CommonResponsesPlugin()]})
    register_error_handlers(app)
    app.extensions["password_hashing"] = PasswordHashing(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"], memory_kib=app.config["PASSWORD_HASH_MEMORY_KIB"]
    )
    app.extensions["storage"] = storage_from_config(app.config)
    celery_init_app(app)
    _limit_json_bodies(app)
    init_input_guard(app)  # after the size limit: it reads the body
    _register_blueprints(api)
    init_metrics(app)
    init_web(app)
    init_web_security(app)
    init_rate_limits(app)
    register_commands(app)
    return app


def _register_blueprints(api: Api) -> None:
    from api import (analyses, applications, auth, background_jobs, bulk, dlq, health, jobs, resumes, statuses,
                     users)

    # bulk before analyses: /api/analyses/reanalyze is not an analysis id.
    for module in (auth, users, statuses, jobs, applications, resumes, bulk, analyses, background_jobs, dlq, health):
        api.register_blueprint(module.blp)


def schema_name(schema) -> str:
    """OpenAPI component names: ``JobListingSchema`` → ``JobListing``, its partial form
    (PATCH bodies) → ``JobListingPatch``."""
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema")
    if isinstance(schema, ma.Schema) and schema.partial:
        name += "Patch"
    return name


def _limit_json_bodies(app: Flask) -> None:
    @app.before_request
    def cap_body_size() -> None:
        # Uploads declare their own larger limit; every other body is JSON and small.
        view = app.view_functions.get(request.endpoint or "")
        handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
        limit = getattr(handler, "max_body_bytes", None)
        request.max_content_length = limit() if callable(limit) else (limit or app.config["MAX_JSON_BODY_BYTES"])


def _api_spec_settings() -> dict:
    return {
        "API_TITLE": API_TITLE,
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_ASSETS,  # served by the app (api/web.py): works offline
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},  # no call to validator.swagger.io
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "Track job applications through their stages, keep job listings "
                "and resumes, and ask for an analysis of how well a resume fits a listing."
            },
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
        },
    }
