"""The console in a real headless Chromium: 扫码登录 confirmed through the API as the mini-program would,
the dashboard, logout."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import drain
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


def test_dead_letter_retry_through_htmx(chrome, live_url, login, dead_letter):
    delivery = dead_letter("停水通知")
    sign_in(chrome, live_url, login("admin"))
    chrome.find_element(By.ID, "nav-dead-letters").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/dead-letters"))
    row = chrome.find_element(By.ID, f"delivery-row-{delivery}")
    assert "停水通知" in row.text and "已停止发送" in row.text
    assert chrome.find_element(By.CSS_SELECTOR, "#delivery-dead .figure").text == "1"
    row.find_element(By.CLASS_NAME, "retry").click()
    WebDriverWait(chrome, 10).until(ec.alert_is_present()).accept()  # hx-confirm
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#delivery-row-{delivery} .status"), "待发送"))
    assert chrome.find_element(By.CSS_SELECTOR, "#delivery-dead .figure").text == "0"  # out-of-band figures
    assert chrome.find_element(By.CSS_SELECTOR, "#delivery-pending .figure").text == "1"
    assert chrome.find_elements(By.CSS_SELECTOR, f"#delivery-row-{delivery} .retry") == []
    assert chrome.current_url == f"{live_url}/console/dead-letters"  # a partial update, not a page load
    assert severe_logs(chrome) == []


def test_an_error_answer_lands_in_the_error_area(chrome, live_url, login, dead_letter, app):
    delivery = dead_letter("停水通知")
    sign_in(chrome, live_url, login("admin"))
    chrome.get(f"{live_url}/console/dead-letters")
    # meanwhile an admin in the mini-program retries it and the worker sends it
    assert login("admin").post(f"/api/v1/admin/notifications/{delivery}/retry").status_code == 200
    drain(app)
    chrome.find_element(By.CSS_SELECTOR, f"#delivery-row-{delivery} .retry").click()
    WebDriverWait(chrome, 10).until(ec.alert_is_present()).accept()
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element((By.ID, "console-error"), "该消息已发送，不能重试"))
    assert "已停止发送" in chrome.find_element(By.ID, f"delivery-row-{delivery}").text  # the row stays as it was
