"""What browsers need to talk to the API safely: CORS for the web app's origins only (from
CORS_ALLOWED_ORIGINS), and security headers on every response, with a Content-Security-Policy
that lets no inline script run: the web app's pages load scripts and styles from this origin
only; Swagger UI's page may run its one inline start-up script, allowed by its hash."""
from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, request
from flask_cors import CORS

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# JSON needs no scripts, styles or frames.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The web app (/ and /assets/): everything from this origin, nothing inline, no plugins, no <base>.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI (/api/docs, assets served by api/web.py): its inline start-up script by hash; its
# components set style attributes, hence 'unsafe-inline' for styles (never for scripts).
DOCS_CSP = ("default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    )


def init_web_security(app: Flask) -> None:
    origins = app.config["CORS_ALLOWED_ORIGINS"]
    if origins:
        CORS(app, resources={r"/api/*": {"origins": origins}}, supports_credentials=False,
             expose_headers=["X-Request-ID", "X-Pagination", "Retry-After", "Location"],
             allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"], max_age=600)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = _policy(response)
        if app.config["APP_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _policy(response) -> str:
    if request.path == "/api/docs":
        return DOCS_CSP.format(hashes=inline_script_hashes(response.get_data(as_text=True)))
    if request.path.startswith("/api/") or request.path == "/metrics":
        return API_CSP
    return APP_CSP
