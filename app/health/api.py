from __future__ import annotations

from flask.views import MethodView

from app.core.blueprint import Blueprint
from app.health import service
from app.health.schemas import LivenessSchema, ReadinessSchema

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="服务健康状态")


@blp.route("")
class Liveness(MethodView):
    @blp.response(200, LivenessSchema)
    def get(self):
        """Liveness: the process answers. Touches nothing."""
        return {"status": "ok"}


@blp.route("/ready")
class Readiness(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema, description="a dependency is down")
    def get(self):
        """Readiness: PostgreSQL, Redis and an RQ worker heartbeat, with a status per dependency."""
        ok, checks = service.readiness()
        body = {
            "status": "ok" if ok else "degraded",
            "checks": {c.name: {"ok": c.ok, "latency_ms": c.latency_ms, "detail": c.detail} for c in checks},
        }
        return body, (200 if ok else 503)
