"""Operations: readiness and Prometheus metrics (liveness, ``/healthz``, is a core)."""

from __future__ import annotations

import redis
from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from identity.core.schemas import HealthSchema
from identity.extensions import services
from identity.models.base import db
from identity.observability import metrics_text

blp = Blueprint("ops", __name__, description="Operations")


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema)
    def get(self) -> Response:
        """200 only when the database (and Redis, when configured) answer."""
        checks: dict[str, str] = {}
        try:
            db.session.execute(text("SELECT 1"))
            db.session.commit()
            checks["database"] = "ok"
        except SQLAlchemyError:
            db.session.rollback()
            checks["database"] = "unavailable"
        shared = services().shared
        if shared.backend != "database":
            try:
                shared.ping()
                checks["redis"] = "ok"
            except (redis.RedisError, SQLAlchemyError):
                checks["redis"] = "unavailable (falling back to the database)"
        ready = all(value == "ok" for value in checks.values())
        response = jsonify({"status": "ok" if ready else "unavailable", "checks": checks})
        response.status_code = 200 if ready else 503
        if not ready:
            response.headers["Retry-After"] = "5"
        return response


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(200, content_type="text/plain")
    def get(self) -> Response:
        """Prometheus text exposition format."""
        body, content_type = metrics_text()
        return Response(body, content_type=content_type)
