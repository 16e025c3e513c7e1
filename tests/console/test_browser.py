"""The console in a real headless Chromium: 扫码登录 confirmed through the API as the mini-program would,
the dashboard, logout."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import severe_logs
from tests.repairs.conftest import report


def sign_in(chrome, live_url, person):
    chrome.get(f"{live_url}/console/login")
    qr = chrome.find_element(By.ID, "login-qr")
    assert qr.get_attribute("src").startswith("data:image/png;base64,")
    assert chrome.execute_script("return arguments[0].naturalWidth", qr) > 100  # the image really decodes
    status = chrome.find_element(By.ID, "login-status")
    token = status.get_attribute("hx-get").split("/")[-2]
    assert person.post(f"/api/v1/console/logins/{token}/scan").status_code == 200
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "login-status"), "请在手机上确认登录"))
    assert person.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/"))


def test_scan_to_sign_in_see_the_dashboard_then_logout(chrome, live_url, login):
    report(login("teacher"))
    admin = login("admin")
    sign_in(chrome, live_url, admin)
    assert "孙主任" in chrome.find_element(By.TAG_NAME, "header").text
    open_repairs = chrome.find_element(By.ID, "figure-repairs-open")
    assert open_repairs.find_element(By.CLASS_NAME, "figure").text == "1"
    assert "待派单、待接单" in open_repairs.get_attribute("title")  # the definition on hover
    for chart in ("chart-daily", "chart-categories"):
        canvas = WebDriverWait(chrome, 10).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, f"#{chart} canvas")))
        assert canvas.size["width"] > 100 and canvas.size["height"] > 100
    assert severe_logs(chrome) == []
    chrome.find_element(By.ID, "logout").click()
    WebDriverWait(chrome, 10).until(ec.url_contains("/console/login?reason=logout"))
    assert "已退出登录" in chrome.find_element(By.ID, "login-reason").text
    chrome.get(f"{live_url}/console/")
    assert chrome.current_url.startswith(f"{live_url}/console/login")


def test_rejected_code_stops_polling(chrome, live_url, login):
    admin = login("admin")
    chrome.get(f"{live_url}/console/login")
    token = chrome.find_element(By.ID, "login-status").get_attribute("hx-get").split("/")[-2]
    assert admin.post(f"/api/v1/console/logins/{token}/reject").status_code == 200
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "login-status"), "已在手机上取消登录"))
    assert chrome.find_element(By.ID, "login-status").get_attribute("hx-trigger") is None
    assert chrome.current_url.endswith("/console/login")
