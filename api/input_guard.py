"""Input no view could handle is refused before any view runs, in the one error shape.

* A JSON body is parsed here first: invalid JSON or UTF-8, integers past Python's 4,300-digit
  conversion limit and nesting deeper than ``MAX_JSON_DEPTH`` are a 400 (a very deep body
  exhausts the parser's recursion, which the view's parser would turn into a 500).
* A JSON body that is not an object (an array, a string, null) is a 422.
* Text PostgreSQL cannot store - NUL characters and unpaired UTF-16 surrogates - is a 422
  wherever it appears: query string, JSON keys and values, form fields. (Files are bytes and
  are not looked at here.)
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from flask import Flask, request

from api.errors import error_response

# Our request bodies nest three levels at most; 32 leaves room and stops pathological input.
MAX_JSON_DEPTH = 32
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired UTF-16 surrogates."
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
NO_BODY = object()


class JsonRefused(Exception):
    pass


def init_input_guard(app: Flask) -> None:
    @app.before_request
    def refuse_unusable_input():
        if request.endpoint is None or request.endpoint == "static":
            return None  # routing answers 404/405 itself
        errors: dict[str, dict[str, list[str]]] = {}
        for name, value in request.args.items(multi=True):
            if UNSTORABLE.search(name) or UNSTORABLE.search(value):
                errors.setdefault("query", {})[_printable(name)] = [UNSTORABLE_MESSAGE]
        if request.method in BODY_METHODS and request.is_json:
            try:
                body = parse_json(request.get_data(cache=True))
            except JsonRefused as refused:
                return error_response(400, str(refused), errors={"json": [str(refused)]})
            if body is not NO_BODY and not isinstance(body, dict):
                # Every JSON body of this API is an object; say so rather than "invalid input type".
                return error_response(422, "The JSON body must be an object.",
                                      errors={"json": {"_schema": ["The JSON body must be an object."]}})
            for path in unstorable_paths(body):
                errors.setdefault("json", {})[path] = [UNSTORABLE_MESSAGE]
        elif request.method in BODY_METHODS and request.mimetype in ("multipart/form-data",
                                                                     "application/x-www-form-urlencoded"):
            for name, value in request.form.items(multi=True):
                if UNSTORABLE.search(name) or UNSTORABLE.search(value):
                    errors.setdefault("form", {})[_printable(name)] = [UNSTORABLE_MESSAGE]
        if errors:
            return error_response(422, UNSTORABLE_MESSAGE, errors=errors)
        return None


def parse_json(data: bytes) -> Any:
    """The body as JSON (``NO_BODY`` if empty), or JsonRefused with a message a client can act on."""
    if not data:
        return NO_BODY  # the view's parser decides whether a body was required
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("The request body is not valid UTF-8 JSON.") from None
    too_deep = JsonRefused(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        body = json.loads(text)
    except RecursionError:  # the C parser stops at the interpreter's recursion limit, safely
        raise too_deep from None
    except ValueError as exc:  # JSONDecodeError, and integers past the digit limit
        raise JsonRefused(f"The request body is not valid UTF-8 JSON: {exc}.") from None
    if _nesting(body) > MAX_JSON_DEPTH:
        raise too_deep
    return body


def _nesting(value: Any) -> int:
    """How deeply arrays and objects nest (a scalar is 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def unstorable_paths(value: Any) -> Iterator[str]:
    """Dotted paths (``tags.2``, ``<key>``) of JSON strings, keys included, that cannot be stored."""
    todo: list[tuple[str, Any]] = [("", value)] if value is not NO_BODY else []
    while todo:
        path, item = todo.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                yield path or "_body"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if UNSTORABLE.search(key):
                    yield child_path
                todo.append((child_path, child))
        elif isinstance(item, list):
            todo.extend((f"{path}.{index}" if path else str(index), child) for index, child in enumerate(item))


def _printable(name: str) -> str:
    """A field name fit to echo back in JSON (surrogates cannot be encoded)."""
    return UNSTORABLE.sub("\ufffd", name)
