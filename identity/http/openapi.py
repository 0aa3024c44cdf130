"""The cores' operations in ``/openapi.json``, generated from their declarations
(``identity.core.routes``); flask-smorest documents the Flask views from theirs."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from marshmallow import Schema
from werkzeug.routing import Rule

from identity.core.routes import Endpoint, Operation
from identity.http.schemas import ErrorSchema, OAuthErrorSchema


def _content(schema: type[Schema], types: tuple[str, ...]) -> dict[str, Any]:
    return {"content": {kind: {"schema": schema} for kind in sorted(types)}}


def _operation(operation: Operation, oauth: bool) -> dict[str, Any]:
    error_schema = OAuthErrorSchema if oauth else ErrorSchema
    ok: dict[str, Any] = {"description": "OK"}
    if operation.response is not None:
        ok.update(_content(operation.response, ("application/json",)))
    responses = {"200": ok}
    for code, description in operation.errors.items():
        responses[str(code)] = {
            "description": description,
            **_content(error_schema, ("application/json",)),
        }
    document: dict[str, Any] = {
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": responses,
    }
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required,
            **_content(operation.body, operation.body_types),
        }
    if operation.security is not None:
        document["security"] = [{operation.security: []}]
    return document


def document(api: Api, endpoints: list[Endpoint]) -> None:
    """Add every declared core operation to the API's OpenAPI document."""
    for endpoint in endpoints:
        operations = {
            method.lower(): _operation(operation, endpoint.oauth)
            for method, operation in endpoint.operations.items()
        }
        api.spec.path(rule=Rule(endpoint.rule), operations=operations)
