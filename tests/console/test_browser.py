"""The console in a real headless Chromium: 扫码登录 confirmed through the API as the mini-program would,
the dashboard, logout, dead letters, and finance: the collection chart, issuing an item to a class."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import drain
from tests.console.conftest import severe_logs
from tests.fees.conftest import new_item
from tests.repairs.conftest import category_id, place_id, report
from tests.support import xlsx


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


def test_finance_sees_the_collection_chart_and_issues_an_item_to_a_class(chrome, live_url, login, chen_bills,
                                                                         tmp_path):
    finance = login("finance")
    item = new_item(finance, name="校服（冬）", amount_fen=26000)
    sign_in(chrome, live_url, finance)
    assert 'id="section-finance"' in chrome.page_source
    rate = chrome.find_element(By.ID, "figure-finance-term-rate")
    assert "已缴账单金额 ÷ 应缴账单金额" in rate.get_attribute("title")  # the definition on hover
    chrome.find_element(By.ID, "nav-fee-collection").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/fees/collection"))
    canvas = WebDriverWait(chrome, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-collection canvas")))
    assert canvas.size["width"] > 100 and canvas.size["height"] > 100
    assert "学费" in chrome.find_element(By.ID, "collection-items").text

    chrome.find_element(By.ID, "nav-fee-items").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/fees/items"))
    chrome.find_element(By.CSS_SELECTOR, f"#fee-item-{item['id']} a.issue").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/fees/items/{item['id']}/issue"))
    sheet = tmp_path / "bills.xlsx"  # a sheet with two bad rows first: listed, nothing issued
    sheet.write_bytes(xlsx([["学号", "姓名"], ["S2026001", "陈同学"], ["S9999999", "无名"],
                            ["S2026002", "王同学"]]).getvalue())
    chrome.find_element(By.ID, "issue-sheet-file").send_keys(str(sheet))
    chrome.find_element(By.ID, "issue-sheet-check").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "issue-sheet-result"), "2 处错误"))
    bad = [r.text for r in chrome.find_elements(By.CSS_SELECTOR, "#sheet-errors tr.sheet-error")]
    assert bad[0].startswith("3 学号") and bad[1].startswith("4 姓名") and len(bad) == 2
    assert chrome.find_elements(By.ID, "issue-sheet-confirm") == []
    chrome.find_element(By.CSS_SELECTOR, 'input[name="class_ids"][data-name="高一(1)班"]').click()
    chrome.find_element(By.ID, "issue-preview").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "issue-result"), "尚未开单"))
    assert chrome.find_element(By.CSS_SELECTOR, "#issue-result .created").text == "2"
    chrome.find_element(By.ID, "issue-confirm").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "issue-result"), "已开单"))
    assert chrome.current_url.endswith(f"/console/fees/items/{item['id']}/issue")  # a partial update
    chrome.find_element(By.ID, "issue-see-bills").click()
    WebDriverWait(chrome, 10).until(ec.url_contains("/console/fees/bills?item_id="))
    rows = chrome.find_elements(By.CSS_SELECTOR, "#fee-bills tbody tr")
    assert len(rows) == 2 and all("校服（冬）" in r.text and "待缴费" in r.text and "260.00" in r.text for r in rows)
    assert {r.find_element(By.CLASS_NAME, "student").text for r in rows} == {"陈同学", "林同学"}
    assert severe_logs(chrome) == []


def test_the_monthly_report_charts_hold_the_page_figures(chrome, live_url, login, clock):
    clock.move_to("2026-10-14T10:00:00+08:00")
    teacher = login("teacher")
    report(teacher)
    report(teacher, category_id=category_id("network"), place_id=place_id("E-ADM-201"))
    sign_in(chrome, live_url, login("admin"))
    chrome.find_element(By.ID, "nav-report").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/report"))
    reported = chrome.find_element(By.ID, "figure-repairs-reported")
    assert "不含已撤销的" in reported.get_attribute("title")  # the definition on hover
    shown = int(reported.find_element(By.CLASS_NAME, "value").text)
    for chart in ("chart-repairs-daily", "chart-repairs-categories", "chart-canteen-daily"):
        WebDriverWait(chrome, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{chart} canvas")))
    option = "return echarts.getInstanceByDom(document.getElementById(arguments[0])).getOption().series[0].data"
    daily = chrome.execute_script(option, "chart-repairs-daily")
    categories = chrome.execute_script(option, "chart-repairs-categories")
    assert shown == 2 and sum(daily) == shown and sum(c["value"] for c in categories) == shown
    orders = int(chrome.find_element(By.CSS_SELECTOR, "#figure-canteen-orders .value").text)
    assert sum(chrome.execute_script(option, "chart-canteen-daily")) == orders
    assert len(daily) == 31
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})  # the printed page: no nav
    assert not chrome.find_element(By.TAG_NAME, "header").is_displayed()
    assert not chrome.find_element(By.ID, "report-toolbar").is_displayed()
    assert chrome.find_element(By.CSS_SELECTOR, "#chart-repairs-daily canvas").is_displayed()
    assert severe_logs(chrome) == []
