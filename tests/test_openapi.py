"""The OpenAPI document: served, committed, current; the docs pages need no network."""

from __future__ import annotations

import json
import re

from app.config import ROOT_DIR
from app.extensions import get_api

DOC = ROOT_DIR / "docs" / "openapi.json"


def test_committed_openapi_is_current(app):
    committed = json.loads(DOC.read_text(encoding="utf-8"))
    generated = json.loads(json.dumps(get_api(app).spec.to_dict()))
    assert committed == generated, "docs/openapi.json is stale: run `make openapi`"


def test_spec_served_under_api(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    spec = resp.json
    assert spec["info"]["title"] == "智慧后勤 API"
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert "ErrorSchema" in json.dumps(spec["components"]) or "Error" in spec["components"]["schemas"]


def _local_assets(html: str) -> list[str]:
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the page loads no assets?"
    external = [u for u in urls if re.match(r"^(https?:)?//", u)]
    assert external == [], f"external requests from the docs page: {external}"
    return urls


def test_swagger_ui_is_served_from_local_files(client):
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for url in _local_assets(html):
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.data) > 1000
    assert '"validatorUrl": null' in html  # otherwise Swagger UI calls validator.swagger.io


def test_redoc_is_served_from_local_files(client):
    resp = client.get("/api/redoc")
    assert resp.status_code == 200
    for url in _local_assets(resp.get_data(as_text=True)):
        assert client.get(url).status_code == 200, url


def test_vendored_bundles_fetch_no_fonts_or_cdn():
    for path in (ROOT_DIR / "app" / "static" / "vendor").rglob("*.js"):
        text = path.read_text(encoding="utf-8", errors="ignore")
        for host in ("fonts.googleapis.com", "cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"):
            assert host not in text, f"{path.name} references {host}"
