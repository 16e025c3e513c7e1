"""GET /api/v1/health, the reference that every other scenario's ratio is taken against.

The liveness endpoint touches neither PostgreSQL nor Redis, so this measures what the stack itself
costs (gunicorn, Flask, flask-smorest, the request-id and transaction hooks) on this machine at this
moment. Users send back to back (no think time) so that the figure is a throughput ceiling.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/api/v1/health")
