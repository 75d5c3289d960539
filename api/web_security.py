"""What browsers need to talk to the API safely: CORS for the web app's origins only (from
CORS_ALLOWED_ORIGINS), and security headers on every response."""
from __future__ import annotations

from flask import Flask, request
from flask_cors import CORS

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# JSON needs no scripts, styles or frames; Swagger UI (/api/docs) loads its bundle from a CDN.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "connect-src 'self'; frame-ancestors 'none'")


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
            response.headers["Content-Security-Policy"] = DOCS_CSP if request.path == "/api/docs" else API_CSP
        if app.config["APP_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
