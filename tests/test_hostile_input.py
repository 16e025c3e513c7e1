"""What an outside probe sent to the real endpoints, each answered with a clear 4xx envelope instead of a 500
or a silently changed value (docs/architecture.md, "API conventions")."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from app.core import clock
from app.core.db import db
from app.meetings.models import Meeting
from app.repairs.models import Material, RepairCategory
from app.users import seed as users_seed
from tests.conftest import TEST_SECRET
from tests.repairs.conftest import PHONE, category_id, place_id


def _envelope(resp, status: int, error_code: str) -> dict:
    body = resp.get_json()
    assert resp.status_code == status, body
    assert body["error_code"] == error_code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    return body


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# --- 1. deeply nested JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
def test_deeply_nested_json_is_refused_before_it_is_parsed_even_unauthenticated(client, demo, depth):
    for body in (_nested(depth), '{"code": ' + _nested(depth, '"x"') + "}"):
        resp = client.post("/api/v1/auth/wechat-login", data=body, content_type="application/json")
        _envelope(resp, 400, "request.too_deep")


def test_deeply_nested_json_is_refused_on_authenticated_endpoints_too(login):
    admin = login("admin")
    body = '{"description": "灯不亮了", "extra": ' + _nested(1000, "{}") + "}"
    for url in ("/api/v1/repairs", "/api/v1/meetings", "/api/v1/admin/repairs/materials"):
        _envelope(admin.post(url, data=body, content_type="application/json"), 400, "request.too_deep")


def test_nesting_within_the_bound_is_parsed_as_usual(login):
    # 32 levels: not refused as too deep; the schema then says what is wrong with it
    body = '{"code": ' + _nested(31, '"x"') + "}"
    resp = login("admin").client.post("/api/v1/auth/wechat-login", data=body, content_type="application/json")
    _envelope(resp, 422, "validation_error")


def test_a_json_body_bigger_than_any_request_needs_is_413_before_it_is_parsed(client, demo):
    body = '{"code": "' + "x" * (1024 * 1024) + '"}'
    _envelope(client.post("/api/v1/auth/wechat-login", data=body, content_type="application/json"), 413,
              "payload_too_large")


def test_brackets_inside_strings_do_not_count_as_nesting(client, demo):
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "[" * 40 + '\\"{' * 10})
    _envelope(resp, 401, "auth.invalid_code")


# --- 2. lone surrogates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["\\ud800", "灯\\udfff不亮", "\\udc00\\ud83d"])
def test_a_lone_surrogate_is_refused(login, text):
    teacher = login("teacher")
    body = (f'{{"description": "{text}", "contact_phone": "{PHONE}", "category_id": {category_id()}, '
            f'"place_id": {place_id()}}}')
    resp = teacher.post("/api/v1/repairs", data=body, content_type="application/json")
    errors = _envelope(resp, 422, "validation_error")["errors"]
    assert errors["json"]["description"] == ["不能包含无效字符"]


def test_a_lone_surrogate_in_a_login_code_is_refused_not_a_500(client, demo):
    resp = client.post("/api/v1/auth/wechat-login", data='{"code": "\\ud800"}', content_type="application/json")
    assert _envelope(resp, 422, "validation_error")["errors"]["json"]["code"] == ["不能包含无效字符"]


def test_a_surrogate_pair_is_an_emoji_and_welcome(login):
    resp = login("teacher").post("/api/v1/repairs", data=(
        f'{{"description": "灯不亮了\\ud83d\\udca1", "contact_phone": "{PHONE}", "category_id": {category_id()}, '
        f'"place_id": {place_id()}}}'), content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["repair"]["description"] == "灯不亮了💡"


# --- 3. far dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/meetings/history?start=9999-12-31",
    "/api/v1/meetings/history?end=9999-12-31",
    "/api/v1/meetings/history?start=0001-01-01",
    "/api/v1/repairs/stats?from=9999-12-31",
    "/api/v1/repairs/stats?to=9999-12-31",
    "/api/v1/repairs/stats/export?from=0001-01-01&to=9999-12-31",
])
def test_far_dates_in_queries_are_422(login, url):
    body = _envelope(login("admin").get(url), 422, "validation_error")
    assert "2000" in str(body["errors"]) and "2100" in str(body["errors"])


def test_far_times_in_a_meeting_are_422(login):
    resp = login("admin").post("/api/v1/meetings", json={
        "title": "千年大会", "starts_at": "9999-12-31T22:00:00+08:00", "ends_at": "9999-12-31T23:59:00+08:00",
        "location": "礼堂", "audience": {"all_staff": True}})
    _envelope(resp, 422, "validation_error")
    assert db.session.scalar(select(Meeting.id).where(Meeting.title == "千年大会")) is None


def test_dates_in_the_sane_range_still_work(login):
    resp = login("admin").get("/api/v1/repairs/stats?from=2000-01-01&to=2100-12-31")
    assert resp.status_code == 200, resp.get_json()


# --- 4. forged token claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("claims", [
    {"sub": "abc", "sid": "x"},
    {"sub": "1.5", "sid": "x"},
    {"sub": "-1", "sid": "x"},
    {"sub": "99999999999999999999", "sid": "x"},
    {"sub": "1", "sid": {"a": 1}},
    {"sub": "1", "sid": ["x"]},
    {"sub": "1", "sid": 7},
])
def test_a_signed_token_with_malformed_claims_is_invalid(client, demo, claims):
    now = clock.now()
    token = jwt.encode({**claims, "typ": "access", "iat": now, "exp": now + timedelta(minutes=5)},
                       TEST_SECRET, algorithm="HS256")
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    _envelope(resp, 401, "auth.invalid_token")


# --- 5. floats for integers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", [1799.9, 1799.0, "1799", 1e3, True])
def test_a_non_integer_cost_is_refused_not_truncated(login, cost):
    resp = login("admin").post("/api/v1/admin/repairs/materials",
                               json={"name": "水管", "unit": "米", "unit_cost_fen": cost})
    body = _envelope(resp, 422, "validation_error")
    assert body["errors"]["json"]["unit_cost_fen"] == ["应为整数"]
    assert db.session.scalar(select(Material.id).where(Material.name == "水管")) is None


def test_an_integer_cost_is_taken(login):
    resp = login("admin").post("/api/v1/admin/repairs/materials",
                               json={"name": "水管", "unit": "米", "unit_cost_fen": 1799})
    assert resp.status_code == 201 and resp.get_json()["unit_cost_fen"] == 1799


def test_float_ids_in_a_list_are_refused_not_truncated(login):
    admin_id = users_seed.demo_user_ids()["admin"]
    resp = login("admin").post("/api/v1/meetings", json={
        "title": "例会", "starts_at": "2026-10-15T14:00:00+08:00", "ends_at": "2026-10-15T15:00:00+08:00",
        "location": "礼堂", "audience": {"user_ids": [admin_id + 0.9]}})
    body = _envelope(resp, 422, "validation_error")
    assert body["errors"]["json"]["audience"]["user_ids"] == {"0": ["应为整数"]}


def test_integers_in_query_strings_are_text_as_always(login):
    admin = login("admin")
    assert admin.get("/api/v1/repairs/calendar?year=2026").status_code == 200
    resp = admin.get("/api/v1/repairs/calendar?year=2026.5")
    assert _envelope(resp, 422, "validation_error")["errors"]["query"]["year"] == ["应为整数"]


# --- 6. control characters, bidi overrides, line breaks -----------------------------------------------------


@pytest.mark.parametrize("title", ["例会\u202e4pm.exe", "例会\u2066x\u2069", "例会\x07", "例会\x1b[31m",
                                   "例会\x7f", "例会\x85"])
def test_control_and_bidi_characters_are_refused_in_a_title(login, title):
    resp = login("admin").post("/api/v1/meetings", json={
        "title": title, "starts_at": "2026-10-15T14:00:00+08:00", "ends_at": "2026-10-15T15:00:00+08:00",
        "location": "礼堂", "audience": {"all_staff": True}})
    assert _envelope(resp, 422, "validation_error")["errors"]["json"]["title"] == ["不能包含控制字符"]


@pytest.mark.parametrize("name", ["水\n管", "水\r管", "水\u2028管"])
def test_a_name_is_one_line(login, name):
    resp = login("admin").post("/api/v1/admin/repairs/categories", json={"code": "pipes", "name": name})
    assert _envelope(resp, 422, "validation_error")["errors"]["json"]["name"] == ["不能换行"]
    assert db.session.scalar(select(RepairCategory.id).where(RepairCategory.code == "pipes")) is None


def test_a_description_keeps_its_lines_and_tabs(login):
    resp = login("teacher").post("/api/v1/repairs", json={
        "description": "灯不亮了\n开关\t没反应\r\n请尽快", "contact_phone": PHONE, "category_id": category_id(),
        "place_id": place_id()})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["repair"]["description"] == "灯不亮了\n开关\t没反应\r\n请尽快"
