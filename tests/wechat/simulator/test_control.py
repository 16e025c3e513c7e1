"""Faults, call counts and the control API (``protocol``, ``control``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.wechat.constants import APP_ID, APP_SECRET
from tests.wechat.simulator.helpers import get, mp_token


def test_faults_hit_the_next_n_calls_of_their_path_only(sim_url, sim):
    sim.inject_fault("/sns/jscode2session", count=2, errcode=45011)
    args = {"appid": APP_ID, "secret": APP_SECRET, "js_code": "demo-teacher", "grant_type": "authorization_code"}

    assert mp_token(sim_url)  # another path is untouched
    answers = [get(sim_url, "sns/jscode2session", **args) for _ in range(3)]

    assert [a.get("errcode") for a in answers] == [45011, 45011, None]
    assert answers[0]["errmsg"].startswith("api minute-quota reach limit")
    assert answers[2]["openid"] == "demo-openid-teacher"
    assert sim.calls()["/sns/jscode2session"] == 3


def test_peak_in_flight_counts_calls_in_progress_at_once(sim_url, sim):
    sim.inject_fault("/cgi-bin/token", count=3, delay_seconds=0.5)
    url = sim_url + "cgi-bin/token"
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: requests.get(url, timeout=5), range(3)))  # three slow calls side by side
    requests.get(url, timeout=5)  # and one alone
    assert sim.calls()["/cgi-bin/token"] == 4
    assert sim.peak_in_flight() == 3
    sim.reset()
    assert sim.peak_in_flight() == 0


def test_http_status_fault_and_clearing(sim_url, sim):
    sim.inject_fault("/cgi-bin/token", count=3, http_status=503)
    url = sim_url + "cgi-bin/token"
    assert requests.get(url, timeout=5).status_code == 503
    sim.clear_faults()
    assert "access_token" in get(
        sim_url, "cgi-bin/token", grant_type="client_credential", appid=APP_ID, secret=APP_SECRET
    )


def test_control_api_rejects_bad_input(sim_url):
    assert requests.post(sim_url + "__sim__/faults", json={"path": "no-slash"}, timeout=5).status_code == 400
    assert requests.post(sim_url + "__sim__/config", json={"typo": True}, timeout=5).status_code == 400
    assert requests.post(sim_url + "__sim__/tokens/invalidate", json={"mode": "x"}, timeout=5).status_code == 400
