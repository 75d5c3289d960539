"""OpenAPI documentation of the errors that whole classes of operations answer with, so that every
status code a client can get is listed on the operation (tests/test_schemathesis.py checks it).

Views document what is particular to them with ``@blp.alt_response``; this apispec plugin adds
what follows from how an operation is built:

* 401 on every operation that needs a bearer token (all but those marked ``security: []``);
* 404 on every route with an id in its path (unknown, malformed or another user's id);
* 400 (not JSON / not UTF-8 / nested too deeply) and 413 (over ``MAX_JSON_BODY_BYTES``) on every
  JSON request body;
* 422 wherever a query string or body is read (``api/input_guard.py`` refuses NUL characters and
  unpaired surrogates);
* 409 on every operation that writes: what it refers to may be deleted by a concurrent request
  (the database's foreign keys refuse it, ``api/errors.py``);
* 503 with ``Retry-After`` on every operation: while the database is unavailable nothing can
  be read or accepted (``api/errors.py``).

It states the upper bound of ``page`` that ``api.queries.paginate`` enforces, and documents the
``X-Pagination`` header as what it is, a JSON object in a header value (flask-smorest declares it
with a plain ``schema``, which in OpenAPI means comma-separated ``key,value`` pairs, not JSON).
"""
from __future__ import annotations

from apispec import BasePlugin

from api.queries import MAX_PAGE

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
COMMON = {
    "401": "Missing, malformed, expired or revoked bearer token",
    "404": "No such id, or it belongs to another user",
    "400": "The body is not valid UTF-8 JSON, or nests too deeply",
    "413": "The body is larger than MAX_JSON_BODY_BYTES",
    "422": "Invalid fields, or text with NUL characters or unpaired surrogates; see errors",
    "409": "Conflicts with a concurrent change (e.g. what it refers to was deleted meanwhile)",
    "503": "The database is unavailable; retry after Retry-After seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}
WRITES = {"post", "put", "patch", "delete"}
PAGINATION_HEADER = {
    "description": "Pagination metadata (JSON)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}},
}


class CommonResponsesPlugin(BasePlugin):
    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            codes = []
            if operation.get("security") != []:
                codes.append("401")
            if rule is not None and rule.arguments:
                codes.append("404")
            body_types = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body_types:
                codes += ["400", "413"]
            if body_types or any(isinstance(p, dict) and p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append("422")  # api/input_guard.py: text that cannot be stored
            if method in WRITES:
                codes.append("409")
            codes.append("503")
            for code in codes:
                if code not in responses and int(code) not in responses:
                    responses[code] = {"description": COMMON[code], "content": ERROR}
                    if code == "503":
                        responses[code]["headers"] = RETRY_AFTER
            for parameter in operation.get("parameters", []):
                if isinstance(parameter, dict) and parameter.get("in") == "query" and parameter.get("name") == "page":
                    parameter.setdefault("schema", {})["maximum"] = MAX_PAGE
            for response in responses.values():
                headers = response.get("headers", {}) if isinstance(response, dict) else {}
                if "X-Pagination" in headers:
                    headers["X-Pagination"] = PAGINATION_HEADER
