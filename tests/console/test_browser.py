"""The console in a real headless Chromium: 扫码登录 confirmed through the API as the mini-program would,
the dashboard, logout, dead letters, finance: the collection chart, issuing an item to a class; repairs:
派单 from the queue (the worker's task list shows it), the statistics charts against the API's figures;
报修设置: an admin adds (and retires) a repair category; 人员: a roster import whose bad row is listed and
nothing written, then a clean one confirmed; 场所: a building's room codes on A4 sheets. Each test keeps
screenshots of the pages it saw (``screenshot``: test-output/console/)."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.core.db import db
from app.users import service as users_service
from tests.conftest import drain
from tests.console.conftest import severe_logs
from tests.fees.conftest import new_item
from tests.repairs.conftest import category_id, demo_group_id, place_id, report, user_id
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


def test_scan_to_sign_in_see_the_dashboard_then_logout(chrome, live_url, login, screenshot):
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
    screenshot("dashboard")
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


def test_dead_letter_retry_through_htmx(chrome, live_url, login, dead_letter, screenshot):
    delivery = dead_letter("停水通知")
    sign_in(chrome, live_url, login("admin"))
    chrome.find_element(By.ID, "nav-dead-letters").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/dead-letters"))
    row = chrome.find_element(By.ID, f"delivery-row-{delivery}")
    assert "停水通知" in row.text and "已停止发送" in row.text
    screenshot("dead-letters")
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
                                                                         tmp_path, screenshot):
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
    screenshot("fee-collection")

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
    screenshot("fee-issue-sheet-errors")
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
    screenshot("fee-bills")
    assert severe_logs(chrome) == []


def test_a_dispatcher_assigns_from_the_queue_and_the_worker_has_the_task(chrome, live_url, login, screenshot):
    dispatcher, worker = login("dispatcher"), login("worker")
    assert dispatcher.put(f"/api/v1/repairs/groups/{demo_group_id()}/members/{user_id('worker')}",
                          json={"on_duty": False}).status_code == 200  # nobody on duty: the report waits
    rid = report(login("teacher"), photos=1)["repair"]["id"]
    def tasks():  # what the worker's mini-program shows under 新任务
        return [(t["id"], t["status"], t["assignee_name"]) for t in worker.get("/api/v1/repairs/tasks?tab=new").json]

    assert tasks() == [(rid, "submitted", None)]  # waiting in the group's queue, nobody's yet
    sign_in(chrome, live_url, dispatcher)
    chrome.find_element(By.ID, "nav-repairs").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/repairs"))
    row = chrome.find_element(By.ID, f"repair-{rid}")
    assert "待派单" in row.find_element(By.CLASS_NAME, "status").text
    screenshot("repairs-queue")
    Select(row.find_element(By.NAME, "worker_id")).select_by_value(str(user_id("worker")))
    row.find_element(By.CSS_SELECTOR, "form.assign button").click()
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#repair-{rid} .status"), "待接单"))
    assert chrome.find_element(By.CSS_SELECTOR, f"#repair-{rid} .assignee").text == "李师傅"
    assert chrome.find_elements(By.CSS_SELECTOR, f"#repair-{rid} form.transfer")  # now 转派
    assert chrome.current_url == f"{live_url}/console/repairs"  # the row swapped in place
    assert chrome.find_element(By.ID, "console-error").text == ""
    screenshot("repairs-queue-assigned")
    assert tasks() == [(rid, "assigned", "李师傅")]  # given to him: his to accept

    chrome.find_element(By.CSS_SELECTOR, f"#repair-{rid} a.detail").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/repairs/{rid}"))
    actions = [e.get_attribute("data-action") for e in chrome.find_elements(By.CSS_SELECTOR, "#repair-timeline .event")]
    assert actions == ["submit", "assign"]
    thumb = chrome.find_element(By.CSS_SELECTOR, "#repair-photos img")
    WebDriverWait(chrome, 10).until(lambda d: d.execute_script("return arguments[0].complete", thumb))
    assert chrome.execute_script("return arguments[0].naturalWidth", thumb) > 0  # streamed through the session
    screenshot("repair-detail")
    assert severe_logs(chrome) == []


def chart_option(chrome, chart_id: str) -> dict:
    return chrome.execute_script(
        "var c = echarts.getInstanceByDom(document.getElementById(arguments[0]));"
        "var o = c.getOption(); return {x: o.xAxis[0].data, series: o.series.map(function (s) {"
        "return {name: s.name, data: s.data}; })};", chart_id)


def test_the_statistics_charts_hold_the_apis_figures(chrome, live_url, login, screenshot):
    teacher, worker, admin = login("teacher"), login("worker"), login("admin")
    done = report(teacher)["repair"]["id"]
    lamp = worker.get("/api/v1/repairs/materials").json[0]
    for action in ("accept", "start"):
        assert worker.post(f"/api/v1/repairs/{done}/{action}").status_code == 200
    assert worker.post(f"/api/v1/repairs/{done}/complete", json={
        "labour_minutes": 25, "materials": [{"material_id": lamp["id"], "quantity": "2"}]}).status_code == 200
    report(teacher, category_id=category_id("network"))
    sign_in(chrome, live_url, admin)
    chrome.find_element(By.ID, "nav-repair-stats").click()
    for by in ("category", "worker"):
        if by != "category":
            chrome.find_element(By.ID, f"stats-by-{by}").click()
        WebDriverWait(chrome, 10).until(ec.url_contains(f"/console/repairs/stats{'' if by == 'category' else '?'}"))
        for chart in ("chart-stats-reports", "chart-stats-times", "chart-stats-sla", "chart-stats-cost"):
            canvas = WebDriverWait(chrome, 10).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, f"#{chart} canvas")))
            assert canvas.size["width"] > 100 and canvas.size["height"] > 100
        api = admin.get(f"/api/v1/repairs/stats?by={by}").json
        assert len(api) == (2 if by == "category" else 1)
        labels = [r["label"] for r in api]
        expected = {
            "chart-stats-reports": [("报修数", [r["reports"] for r in api]), ("已完成", [r["completed"] for r in api])],
            "chart-stats-times": [("平均接单", [r["avg_accept_minutes"] for r in api]),
                                  ("平均修复", [r["avg_repair_minutes"] for r in api])],
            "chart-stats-sla": [("时限达标率", [r["sla_compliance"] for r in api])],
            "chart-stats-cost": [("材料费", [r["material_cost_fen"] / 100 for r in api])],
        }
        for chart, series in expected.items():
            option = chart_option(chrome, chart)
            assert option["x"] == labels, chart
            assert [(s["name"], s["data"]) for s in option["series"]] == series, chart
        screenshot(f"repair-stats-{by}")
    assert admin.get("/api/v1/repairs/stats?by=category").json[0]["material_cost_fen"] == 2 * lamp["unit_cost_fen"]
    assert chrome.find_element(By.ID, "stats-export").get_attribute("href").endswith("/console/repairs/stats/export")


def test_an_admin_adds_a_repair_category_and_the_api_lists_it(chrome, live_url, login, screenshot):
    admin = login("admin")
    sign_in(chrome, live_url, admin)
    chrome.find_element(By.ID, "nav-repairs-config").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/repairs/config"))
    code, name = chrome.find_element(By.ID, "add-category-code"), chrome.find_element(By.ID, "add-category-name")
    code.send_keys("water_electric")  # taken: the error lands in the error area, nothing is added
    name.send_keys("电梯")
    chrome.find_element(By.ID, "add-category-submit").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "console-error"), "类别编码已存在"))
    refused = severe_logs(chrome)  # the browser and htmx log the 409 they were answered, and only that
    assert len(refused) == 2 and all("409" in line for line in refused), refused
    code.clear()
    code.send_keys("lift")
    chrome.find_element(By.ID, "add-category-submit").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "config-categories"), "电梯"))
    assert chrome.find_element(By.ID, "console-error").text == ""  # the old error is gone
    assert chrome.current_url == f"{live_url}/console/repairs/config"  # a partial update, not a page load
    listed = {c["code"]: c for c in admin.get("/api/v1/repairs/categories").json}
    assert listed["lift"]["name"] == "电梯" and listed["lift"]["active"] is True
    row = chrome.find_element(By.ID, f"category-{listed['lift']['id']}")
    row.find_element(By.CSS_SELECTOR, "form.toggle button").click()  # 停用 asks first
    WebDriverWait(chrome, 10).until(ec.alert_is_present()).accept()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#category-{listed['lift']['id']} .status"), "已停用"))
    assert "lift" not in {c["code"] for c in admin.get("/api/v1/repairs/categories").json}
    screenshot("repairs-config-categories")


def test_a_roster_import_with_a_bad_row_shows_it_and_writes_nothing(chrome, live_url, login, sim, tmp_path,
                                                                   screenshot):
    admin = login("admin")
    sign_in(chrome, live_url, admin)
    chrome.find_element(By.ID, "nav-people").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/people"))
    sheet = tmp_path / "students.xlsx"  # one bad row (an unknown class) among good ones
    sheet.write_bytes(xlsx([["学号", "姓名", "班级"], ["S3000001", "新同学", "高一(1)班"],
                            ["S3000002", "错班", "高九(9)班"]]).getvalue())
    chrome.find_element(By.ID, "import-students-file").send_keys(str(sheet))
    chrome.find_element(By.ID, "import-students-check").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "import-students-result"), "1 处错误"))
    bad = [r.text for r in chrome.find_elements(By.CSS_SELECTOR, "#import-students-result tr.sheet-error")]
    assert bad == ["3 班级 未知班级“高九(9)班”"]
    assert chrome.find_elements(By.ID, "import-students-confirm") == []
    screenshot("people-import-errors")
    # nothing was written: the users service knows no such student, and nobody can bind to it
    db.session.rollback()
    assert users_service.students_by_number(["S3000001", "S3000002"]) == {}
    newcomer = login(code=sim.register_login_code(openid="o-new-student")["code"])
    resp = newcomer.post("/api/v1/me/bind", json={"kind": "student", "number": "S3000001", "name": "新同学"})
    assert resp.status_code == 404 and resp.get_json()["error_code"] == "users.roster_not_found"

    staff = tmp_path / "staff.xlsx"  # a clean sheet: checked, then imported on 确认导入 (asked first)
    staff.write_bytes(xlsx([["工号", "姓名", "部门", "手机号", "角色"],
                            ["T9001", "新老师", "数学教研组", "", ""]]).getvalue())
    chrome.find_element(By.ID, "import-staff-file").send_keys(str(staff))
    chrome.find_element(By.ID, "import-staff-check").click()
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "import-staff-result"), "尚未导入"))
    assert admin.get("/api/v1/admin/staff?q=T9001").get_json() == []
    chrome.find_element(By.ID, "import-staff-confirm").click()
    WebDriverWait(chrome, 10).until(ec.alert_is_present()).accept()  # hx-confirm
    WebDriverWait(chrome, 10).until(ec.text_to_be_present_in_element((By.ID, "import-staff-result"), "已导入"))
    assert [s["name"] for s in admin.get("/api/v1/admin/staff?q=T9001").get_json()] == ["新老师"]
    assert chrome.current_url == f"{live_url}/console/people"  # partial updates, no page load
    assert severe_logs(chrome) == []


def test_a_buildings_room_codes_print_on_a4(chrome, live_url, login, screenshot):
    sign_in(chrome, live_url, login("dispatcher"))
    chrome.find_element(By.ID, "nav-places").click()
    chrome.find_element(By.LINK_TEXT, "东校区").click()
    chrome.find_element(By.LINK_TEXT, "教学楼A").click()
    chrome.find_element(By.CSS_SELECTOR, "a[id^='print-codes-']").click()
    WebDriverWait(chrome, 10).until(ec.url_contains("/codes"))
    sheets = chrome.find_elements(By.CSS_SELECTOR, "section.sheet")
    assert [len(s.find_elements(By.CSS_SELECTOR, "figure.code")) for s in sheets] == [12, 12]
    first = sheets[0].find_element(By.CSS_SELECTOR, "figure.code")
    assert first.find_element(By.CLASS_NAME, "name").text == "101"
    WebDriverWait(chrome, 20).until(lambda d: d.execute_script(
        "return Array.from(document.images).every(function (i) { return i.complete && i.naturalWidth > 0; })"))
    screenshot("room-codes")


def test_the_monthly_report_charts_hold_the_page_figures(chrome, live_url, login, clock, screenshot):
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
    screenshot("monthly-report")
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})  # the printed page: no nav
    assert not chrome.find_element(By.TAG_NAME, "header").is_displayed()
    assert not chrome.find_element(By.ID, "report-toolbar").is_displayed()
    assert chrome.find_element(By.CSS_SELECTOR, "#chart-repairs-daily canvas").is_displayed()
    assert severe_logs(chrome) == []
