"""The web app and Swagger UI's assets, served by the API itself (same origin as /api, no CDN):
``/`` is the single page (``web/index.html``), ``/assets/...`` its modules and styles, and
``/api/docs/assets/...`` the Swagger UI files of the ``swagger-ui-bundle`` package."""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
SWAGGER_UI_ASSETS = "/api/docs/assets/"

blp = Blueprint("web", __name__, static_folder=str(WEB_ROOT / "static"), static_url_path="/assets")


@blp.get("/")
def index():
    # Revalidated on every load (ETag): a new release is picked up at once.
    return send_from_directory(WEB_ROOT, "index.html", max_age=0)


@blp.get(SWAGGER_UI_ASSETS + "<path:filename>")
def swagger_ui_asset(filename: str):
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def init_web(app: Flask) -> None:
    app.register_blueprint(blp)
    trusted = app.config["TRUSTED_PROXY_COUNT"]
    if trusted:
        # Behind N reverse proxies the client is the address the Nth-nearest one saw; with 0
        # (the default) a client's own X-Forwarded-For is ignored, so nobody picks their key.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)
