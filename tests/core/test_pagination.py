"""In-view pagination of select() statements, with the X-Pagination header."""

from __future__ import annotations

import json

import marshmallow as ma
import pytest
from flask.views import MethodView
from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.blueprint import Blueprint
from app.core.db import db
from app.core.pagination import paginate
from tests.conftest import probe_app

blp = Blueprint("pageprobe", __name__, url_prefix="/api/v1/pageprobe")


class EventSchema(ma.Schema):
    id = ma.fields.Integer()
    entity_id = ma.fields.Integer()


@blp.route("")
class Events(MethodView):
    @blp.response(200, EventSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(select(AuditEvent).order_by(AuditEvent.id), pagination_parameters)


@pytest.fixture
def pclient(app, service_urls, tmp_path):
    web = probe_app(service_urls, tmp_path, blp)
    for i in range(1, 46):
        audit.record("page", i, "x", actor_id=None)
    db.session.commit()
    return web.test_client()


def test_pages_and_header(pclient):
    resp = pclient.get("/api/v1/pageprobe?page=2&page_size=20")
    assert resp.status_code == 200
    assert [e["entity_id"] for e in resp.json] == list(range(21, 41))
    header = json.loads(resp.headers["X-Pagination"])
    assert header["total"] == 45 and header["total_pages"] == 3 and header["page"] == 2
    assert header["next_page"] == 3 and header["previous_page"] == 1


def test_last_page_is_short(pclient):
    resp = pclient.get("/api/v1/pageprobe?page=3&page_size=20")
    assert [e["entity_id"] for e in resp.json] == [41, 42, 43, 44, 45]


def test_page_past_the_end_is_empty(pclient):
    assert pclient.get("/api/v1/pageprobe?page=9&page_size=20").json == []


@pytest.mark.parametrize("query", ["page=0", "page_size=0", "page_size=1000", "page=abc"])
def test_bad_page_parameters_are_422(pclient, query):
    resp = pclient.get(f"/api/v1/pageprobe?{query}")
    assert resp.status_code == 422
    assert resp.json["error_code"] == "validation_error"
