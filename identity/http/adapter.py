"""Channel-adapter inbound endpoint (docs/exchange.md): signed messages are recorded as received."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields

from identity.extensions import services
from identity.http.signatures import hub_signed

blp = Blueprint("adapter", __name__, description="Channel-adapter inbound calls")


class InboundSchema(Schema):
    """A channel message (Medallia custom-channel shape); unknown fields are kept verbatim."""

    class Meta:
        unknown = INCLUDE

    object = fields.String()
    messaging = fields.List(fields.Dict(), load_default=list)


class RecordedSchema(Schema):
    id = fields.Integer(required=True)
    auth = fields.String(
        required=True, metadata={"description": "signature or access_token: how it was verified"}
    )


def _sender(message: dict[str, Any]) -> str | None:
    """The first message's ``sender.id``, when the payload has one."""
    for item in message.get("messaging") or []:
        sender = item.get("sender")
        if isinstance(sender, dict) and isinstance(sender.get("id"), str | int):
            return str(sender["id"])[:255]
    return None


@blp.route("/adapter/inbound")
class Inbound(MethodView):
    @hub_signed(allow_access_token=True)
    @blp.arguments(InboundSchema())
    @blp.response(200, RecordedSchema)
    def post(self, message: dict[str, Any]) -> dict[str, Any]:
        """Record a message signed with ``X-Hub-Signature: sha1=`` (or ``?access_token=``)."""
        raw = request.get_data(cache=True).decode("utf-8")  # parsed as JSON, so valid UTF-8
        recorded = services().exchange.record_inbound("adapter", _sender(message), raw)
        return {"id": recorded.id, "auth": g.inbound_auth}


@blp.after_request
def _not_framable(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response
