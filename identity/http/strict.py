"""Flask's and webargs' JSON parsing, and the path-segment rule, pointed at the strict readers.

``request.get_json()`` goes through ``app.json.loads``; webargs (flask-smorest's
``@blp.arguments``) parses with its own ``json.loads``: both now call
``identity.core.bodies.json_body``, so every route reads JSON under one set of rules.
"""

from __future__ import annotations

from typing import Any

import flask
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from identity.core.bodies import json_body
from identity.core.identifiers import SEGMENT_PATTERN
from identity.errors import BadRequest


class JsonRefused(BadRequest, ValueError):
    """The strict reader's refusal; a ``ValueError`` too, so ``get_json(silent=True)`` works."""


class StrictJSONProvider(DefaultJSONProvider):
    """``app.json``: serialises as Flask does, reads with the strict reader."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json_body(s)
        except BadRequest as exc:
            raise JsonRefused(exc.text, exc.validation_errors) from None


class StrictRequest(flask.Request):
    """Renders the reader's own 400 (text, ``validationErrors``), not werkzeug's generic one."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, JsonRefused):
            raise e
        return super().on_json_loading_failed(e)


class StrictArgumentsParser(FlaskParser):
    """webargs' parser for ``@blp.arguments``; invalid arguments are 400 (docs/limits.md)."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not core.is_json(req.mimetype) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()  # parsed (and cached) by the strict provider


class IdentifierConverter(BaseConverter):
    """The default ``<name>`` converter: a segment with a control character matches no route."""

    regex = SEGMENT_PATTERN


def refuse_unreadable_json() -> None:
    """Any JSON body is read before the route runs, so one that breaks the rules is refused
    (400) even by a route that never reads its body: nothing is acted on.

    Signed routes (``signature_first``) verify the raw bytes first and read the body after:
    an unsigned body is 401 whatever it holds.
    """
    request = flask.request
    if not core.is_json(request.mimetype) or not request.get_data(cache=True):
        return
    view = flask.current_app.view_functions.get(request.endpoint or "")
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    if not getattr(handler, "signature_first", False):
        request.get_json()


def install(app: Flask) -> None:
    """JSON provider and path converter; before any blueprint (rules compile converters then)."""
    strict = StrictJSONProvider(app)
    strict.sort_keys, strict.compact = app.json.sort_keys, app.json.compact  # type: ignore[attr-defined]
    app.json = strict
    app.request_class = StrictRequest
    app.before_request(refuse_unreadable_json)  # after observability's (the request id)
    app.url_map.converters["default"] = IdentifierConverter
    app.url_map.converters["string"] = IdentifierConverter
