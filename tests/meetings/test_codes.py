"""The codes people scan: the rotating QR, the projector link and page, the printed door code."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

from PIL import Image

from app.core import audit
from app.meetings import service, tokens
from app.meetings.service.codes import CHECKIN_PAGE
from app.wechat import codes as wechat_codes
from tests.meetings.conftest import API, END, HALL, START, actor, department_id, make_meeting, nonce


def test_rotating_qr_for_the_organiser(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(minutes=5))
    resp = login("teacher").get(f"{API}/{meeting.id}/qr")
    assert resp.status_code == 200
    q = resp.json
    assert tokens.verify(app.config["SECRET_KEY"], q["token"], START - timedelta(minutes=5)).meeting_id == meeting.id
    assert q["link"] == f"{app.config['WECHAT_QR_LINK_BASE']}checkin?t={q['token']}"
    png = base64.b64decode(q["image"].removeprefix("data:image/png;base64,"))
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert q["slot_seconds"] == 15 and 0 < q["refresh_in_ms"] <= 5000
    assert q["counts"]["invited"] == 2 and q["phase"] == "open"
    # what the QR shows checks people in
    answer = login("admin").post(f"{API}/check-ins", json={"token": q["token"], "nonce": nonce()}).json
    assert answer["status"] == "ok"


def test_qr_is_for_organisers_only(at, login):
    meeting = make_meeting()
    assert login("admin").get(f"{API}/{meeting.id}/qr").status_code == 200  # admins too
    other = make_meeting("admin", audience={"department_ids": [department_id("语文教研组")]})
    assert login("teacher").get(f"{API}/{other.id}/qr").status_code == 403  # invited only
    assert login("worker").get(f"{API}/{meeting.id}/qr").status_code == 404


def test_a_geofenced_meetings_qr_link_asks_for_the_location(app, at, login):
    meeting = make_meeting(geofence={**HALL, "radius_m": 100})
    link = login("teacher").get(f"{API}/{meeting.id}/qr").json["link"]
    assert link.endswith("&g=1") and "checkin?t=" in link


def test_sign_out_qr_needs_sign_out_enabled(app, at, login):
    meeting = make_meeting()
    resp = login("teacher").get(f"{API}/{meeting.id}/qr?purpose=sign_out")
    assert resp.status_code == 409 and resp.json["error_code"] == "meetings.sign_out_disabled"
    with_sign_out = make_meeting(sign_out_enabled=True)
    q = login("teacher").get(f"{API}/{with_sign_out.id}/qr?purpose=sign_out").json
    assert q["purpose"] == "sign_out" and ".o." in q["token"]


def test_projector_link_and_page(at, login, client):
    meeting = make_meeting()
    resp = login("teacher").post(f"{API}/{meeting.id}/projector-link")
    assert resp.status_code == 201
    link = resp.json
    assert link["expires_at"] == (END + timedelta(minutes=60)).isoformat()
    page = client.get(link["path"])
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "会议签到" in html and "http" not in html.split("<script>")[1]  # no CDN, same-origin polling
    q = client.get(link["path"] + "/qr").json
    assert q["meeting_id"] == meeting.id and q["image"].startswith("data:image/png;base64,")
    assert set(q) == {"meeting_id", "title", "purpose", "token", "link", "image", "slot", "slot_seconds",
                      "changes_at", "valid_until", "refresh_in_ms", "server_time", "phase", "status", "counts"}
    assert client.get(f"{API}/projector/forged-key").status_code == 404
    assert client.get(f"{API}/projector/{link['key']}x/qr").status_code == 404
    at(END + timedelta(minutes=61))
    assert client.get(link["path"] + "/qr").json["error_code"] == "meetings.projector_expired"


def test_the_organiser_revokes_every_projector_link_at_once(at, login, client):
    meeting = make_meeting()
    teacher = login("teacher")
    old = teacher.post(f"{API}/{meeting.id}/projector-link").json
    assert client.get(old["path"] + "/qr").status_code == 200
    assert login("student").delete(f"{API}/{meeting.id}/projector-link").status_code == 404  # not theirs
    assert client.get(old["path"] + "/qr").status_code == 200

    assert teacher.delete(f"{API}/{meeting.id}/projector-link").status_code == 204
    for path in (old["path"], old["path"] + "/qr"):
        resp = client.get(path)
        assert (resp.status_code, resp.json["error_code"]) == (403, "meetings.projector_revoked")
        assert "撤销" in resp.json["message"]
    new = teacher.post(f"{API}/{meeting.id}/projector-link").json
    assert new["key"] != old["key"] and client.get(new["path"] + "/qr").status_code == 200
    assert [e.action for e in audit.history("meeting", meeting.id) if e.action.startswith("projector")] == [
        "projector_link", "projector_links_revoked", "projector_link"]


def test_static_door_code_requires_the_geofence(at, login, sim):
    plain = make_meeting()
    resp = login("teacher").get(f"{API}/{plain.id}/static-code")
    assert resp.status_code == 409 and resp.json["error_code"] == "meetings.static_code_disabled"
    fenced = make_meeting(geofence={**HALL, "radius_m": 150}, allow_static_code=True)
    resp = login("teacher").get(f"{API}/{fenced.id}/static-code")
    assert resp.status_code == 200 and resp.headers["X-Code-Source"] == "wechat"
    assert Image.open(io.BytesIO(resp.data)).format == "PNG"
    assert sim.calls().get("/wxa/getwxacodeunlimit") == 1
    sim.inject_fault("/wxa/getwxacodeunlimit", errcode=45009, errmsg="reach max api daily quota limit")
    resp = login("teacher").get(f"{API}/{fenced.id}/static-code")
    assert resp.status_code == 200 and resp.headers["X-Code-Source"] == "qr"  # plain QR fallback


def test_the_images_come_from_the_shared_code_helper(at, login, sim, monkeypatch):
    """The rotating QR and the door code's plain-QR fallback are ``app.wechat.codes``' images of the
    check-in page's links (what a phone's scanner opens)."""
    drawn = []

    def qr_png(text, **kw):
        drawn.append(text)
        return b"\x89PNG probe"

    monkeypatch.setattr(wechat_codes, "qr_png", qr_png)
    meeting = make_meeting(geofence={**HALL, "radius_m": 150}, allow_static_code=True)
    teacher = login("teacher")
    q = teacher.get(f"{API}/{meeting.id}/qr").json
    assert drawn == [q["link"]] and q["image"] == "data:image/png;base64," + base64.b64encode(b"\x89PNG probe").decode()
    resp = teacher.get(f"{API}/{meeting.id}/static-code?source=qr")
    assert resp.status_code == 200 and resp.data == b"\x89PNG probe" and resp.headers["X-Code-Source"] == "qr"
    assert drawn[-1] == f"{wechat_codes.link('checkin')}?m={meeting.code}"
    assert sim.calls().get("/wxa/getwxacodeunlimit") is None  # `qr` asked for: WeChat is not asked


def test_the_door_code_opens_the_mini_program_version_in_use(app, at, monkeypatch):
    asked = []

    def get_unlimited_code(client, scene, page, **kw):
        asked.append((scene, page, kw))
        return wechat_codes.qr_png("probe")

    monkeypatch.setattr(wechat_codes.wx, "get_unlimited_code", get_unlimited_code)
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_STATE", "trial")
    meeting = make_meeting(geofence={**HALL, "radius_m": 150}, allow_static_code=True)
    image = service.static_code(actor=actor("teacher"), meeting_id=meeting.id)
    assert isinstance(image, wechat_codes.Image) and image.source == "wechat"
    assert asked == [(f"m={meeting.code}", CHECKIN_PAGE, {"env_version": "trial", "check_path": False})]
