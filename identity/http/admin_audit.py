"""Admin API: the audit log, newest first, filtered and paged by an opaque cursor."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from identity.extensions import services
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.services.audit import MAX_LIMIT, event_dict

blp = Blueprint("admin_audit", __name__, description="Audit log (admin)")


class AuditQuerySchema(Schema):
    since = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "RFC 3339; events at or after it"}
    )
    action = fields.String(validate=validate.Length(1, 64), metadata={"example": "client.create"})
    target = fields.String(validate=validate.Length(1, 300), metadata={"example": "client:abc"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(1, 200))


class AuditEventSchema(Schema):
    id = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    actor = fields.String(required=True, metadata={"description": "client:<client_id> or cli"})
    action = fields.String(required=True, metadata={"description": "<kind>.<verb>"})
    target = fields.String(required=True, metadata={"description": "<kind>:<id or name>"})
    outcome = fields.String(required=True, metadata={"description": "success or refused"})
    request_id = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True, metadata={"description": "refusals in that minute"})


class AuditPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


@blp.route("/admin/audit-events")
class AuditEvents(MethodView):
    @require(access=["admin"])
    @blp.arguments(AuditQuerySchema(), location="query")
    @blp.response(200, AuditPageSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="bad filter or cursor")
    @blp.alt_response(401, schema=ErrorSchema, description="no admin token")
    @blp.alt_response(403, schema=ErrorSchema, description="token lacks scope admin")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Audit events, newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
        rows, cursor = services().audit.list(**query)
        return {"events": [event_dict(row) for row in rows], "next_cursor": cursor}
