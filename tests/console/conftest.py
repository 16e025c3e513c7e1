"""Helpers of the console tests: a browser (its own cookie jar) and signing it in by scanning; for the
browser tests, the app served on a thread and a real headless Chromium (Debian's ``/usr/bin/chromium``
and ``/usr/bin/chromedriver``: nothing downloads a browser, selenium is given the driver's path). A
missing Chromium fails the run with the command that installs it; nothing is skipped."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from sqlalchemy import select
from werkzeug.serving import make_server

from app.core.db import db
from app.notifications import service as notifications_service
from app.notifications.models import Delivery
from app.users.models import User
from tests.conftest import IsolatedClient, drain
from tests.fees.conftest import chen_bills  # noqa: F401 - fixtures
from tests.meetings.conftest import at, ids  # noqa: F401 - fixtures
from tests.notifications.conftest import NOTICE_TEMPLATE_ID, consent, teacher_id  # noqa: F401 - fixtures
from tests.repairs.conftest import long_tokens, second_worker  # noqa: F401 - fixtures

HTMX = {"HX-Request": "true"}


def login_token(page: str) -> str:
    return re.search(r"/console/login/([A-Za-z0-9_-]{32})/status", page).group(1)


@pytest.fixture
def browser(app) -> FlaskClient:
    """A browser of its own (cookies apart from the mini-program's client)."""
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def new_browser(app):
    def make() -> FlaskClient:
        app.test_client_class = IsolatedClient
        return app.test_client()
    return make


@pytest.fixture
def signed_in(browser, login):
    """``signed_in("admin")``: the browser shows a code, the mini-program user of that role confirms it,
    the browser's next poll signs it in. Returns the mini-program session."""

    def sign_in(role: str = "admin"):
        person = login(role)
        token = login_token(browser.get("/console/login").get_data(as_text=True))
        assert person.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200
        resp = browser.get(f"/console/login/{token}/status", headers=HTMX)
        assert resp.headers.get("HX-Redirect") == "/console/", resp.get_data(as_text=True)
        return person

    return sign_in


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def csrf(browser) -> str:
    """The signed-in browser's CSRF token, as htmx sends it (``hx-headers`` of the page's body)."""
    page = browser.get("/console/").get_data(as_text=True)
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)


def post(browser, url, data=None, token=None, **kw):
    """An htmx POST of the signed-in browser, with its CSRF token."""
    return browser.post(url, data=data or {}, headers={**HTMX, "X-CSRF-Token": token or csrf(browser)}, **kw)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def live_url(app):
    """The app on a free port of 127.0.0.1, served by a thread for the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def chrome():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        # The browser tests are part of `make test` everywhere (`.ci/run` installs the browser): a missing
        # one fails with the command that installs it, never a skip.
        pytest.fail(f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # page errors, for severe_logs()
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "console"


@pytest.fixture
def screenshot(chrome):
    """``screenshot("repairs-queue")``: keeps a PNG of the page as the browser shows it now, for review after
    the run (``test-output/console/`` of the checkout, or ``CONSOLE_SCREENSHOTS`` when set), and checks it is
    a real picture."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{name}.png"
        assert chrome.save_screenshot(str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
        return path

    return take


def severe_logs(driver) -> list[str]:
    """JavaScript errors and failed loads the page logged (a missing vendored file, a script error)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture
def dead_letter(app, sim, consent, monkeypatch):  # noqa: F811 - the fixture imported above
    """``dead_letter(title)``: a notice to the demo teacher whose subscribe message WeChat refuses for
    good (a permanent error), drained by a real worker: one dead delivery. Returns its id."""
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about dead letters, whatever the time of day

    def make(title: str = "停水通知", key: str = "dead-one") -> int:
        consent(1, NOTICE_TEMPLATE_ID)
        sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=47003, errmsg="argument invalid!")
        user_id = db.session.scalar(select(User.id).where(User.openid == "demo-openid-teacher"))
        note = notifications_service.notify(user_id=user_id, event="notifications.notice", title=title,
                                            body="明天 8:00-12:00 停水", link="/pages/messages/messages",
                                            idempotency_key=key)
        db.session.commit()
        drain(app)
        return db.session.scalar(select(Delivery.id).where(Delivery.notification_id == note.id,
                                                           Delivery.status == "dead"))

    return make
