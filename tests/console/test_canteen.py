"""食堂 in the console: dishes and the menus of a week (create, portions through htmx, 复制到下周), the
production sheet with the live pickup progress, sales and waste with the .xlsx, a department's monthly
statement with its 订餐员, the dashboard's 食堂 section, and who may see what (canteen staff and admins;
finance the statements; a dispatcher nothing). Every figure is compared with the canteen service's. One
test runs in a real headless Chromium: the console link, the sales chart, portions changed through htmx."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from app.canteen import service as canteen
from app.canteen.models import DepartmentOrderer, Dish, Menu
from app.core import clock as app_clock
from app.core.auth import Actor
from app.core.db import db
from app.users import service as users_service
from tests.canteen.conftest import Kitchen, cook, left  # noqa: F401 - fixtures
from tests.conftest import drain
from tests.console.conftest import HTMX, severe_logs
from tests.repairs.conftest import jpeg
from tests.support import stored_files as files

STAFF = Actor(user_id=0, roles=frozenset({"canteen"}))
TODAY = date(2026, 10, 14)  # the fixed clock's day (a Wednesday)
WEEK = date(2026, 10, 12)


def csrf(browser) -> str:
    page = browser.get("/console/").get_data(as_text=True)
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)


def post(browser, url, data=None, token=None):
    return browser.post(url, data=data or {}, headers={**HTMX, "X-CSRF-Token": token or csrf(browser)})


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def department(name: str) -> int:
    return next(d.id for d in users_service.list_departments() if d.name == name)


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def figure(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}".*?<div class="figure">(.*?)</div>', page, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def kitchen(app, demo):
    return Kitchen()


@pytest.fixture
def dinner(kitchen, cook, teacher):  # noqa: F811 - fixtures imported above
    """Tonight's dinner with two department orders of 语文教研组 (billed, paid at once), one picked up."""
    chinese = department("语文教研组")
    resp = cook.post(f"/api/v1/canteen/departments/{chinese}/orderers", json={"user_id": teacher.user["id"]})
    assert resp.status_code == 200
    menu = kitchen.menu(portions={"红烧肉": 30})
    codes = []
    for n, lines in enumerate(({"红烧肉": 6, "青菜": 3}, {"牛肉面": 4})):
        resp = teacher.post(f"/api/v1/canteen/departments/{chinese}/orders", json={
            "menu_id": menu["id"], "headcount": 6, "request_id": f"console-dept-{n}",
            "lines": [{"menu_item_id": menu["items"][d], "quantity": q} for d, q in lines.items()]})
        assert resp.status_code == 201, resp.get_json()
        codes.append(resp.get_json()["pickup_code"])
    assert cook.post("/api/v1/canteen/pickups", json={"code": codes[1]}).status_code == 200
    return {**menu, "department_id": chinese, "canteen_id": kitchen.canteen_id}


CANTEEN_PAGES = ["/console/canteen/menus", "/console/canteen/sales", "/console/canteen/sales/export"]


def all_pages(menu_id: int) -> list[str]:
    return [*CANTEEN_PAGES, f"/console/canteen/menus/{menu_id}", f"/console/canteen/menus/{menu_id}/sheet",
            f"/console/canteen/menus/{menu_id}/progress", "/console/canteen/statements",
            "/console/canteen/statements/export"]


# --- who -----------------------------------------------------------------------------------------------


def test_canteen_staff_see_the_canteen_pages_and_todays_figures(browser, signed_in, dinner):
    signed_in("canteen")
    home = browser.get("/console/").get_data(as_text=True)
    for nav in ("nav-canteen-menus", "nav-canteen-sales", "nav-canteen-statement"):
        assert f'id="{nav}"' in home
    assert 'id="nav-repairs"' not in home and 'id="nav-fee-items"' not in home
    expected = canteen.day_figures(actor=STAFF, day=TODAY)
    assert expected == {"orders": 2, "picked_up": 1, "no_show": 0}
    assert figure(home, "figure-canteen-today-orders") == "2"
    assert figure(home, "figure-canteen-today-picked") == "1"
    assert figure(home, "figure-canteen-today-no-show") == "0"
    for url in all_pages(dinner["id"]):
        assert browser.get(url).status_code == 200, url


def test_a_dispatcher_gets_403_and_no_menu(browser, signed_in, dinner):
    signed_in("dispatcher")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-canteen-menus"' not in home and 'id="nav-canteen-statement"' not in home
    assert 'id="section-canteen"' not in home
    for url in all_pages(dinner["id"]):
        assert browser.get(url).status_code == 403, url
    item = dinner["items"]["青菜"]
    token = csrf(browser)
    assert post(browser, f"/console/canteen/menu-items/{item}/portions", {"portions": "1"}, token).status_code == 403
    assert post(browser, "/console/canteen/copy-week", {"canteen_id": dinner["canteen_id"]}, token).status_code == 403
    assert left(dinner, "青菜") == 47
    assert count(Menu) == 1 + count(Menu, Menu.canteen_id != dinner["canteen_id"])


def test_finance_reads_the_statements_only(browser, signed_in, dinner):
    signed_in("finance")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-canteen-statement"' in home and 'id="nav-canteen-menus"' not in home
    assert 'id="section-canteen"' not in home
    page = browser.get(f"/console/canteen/statements?department_id={dinner['department_id']}&month=2026-10")
    assert page.status_code == 200 and 'id="orderers"' not in page.get_data(as_text=True)
    for url in CANTEEN_PAGES:
        assert browser.get(url).status_code == 403, url
    resp = post(browser, f"/console/canteen/departments/{dinner['department_id']}/orderers", {"user_id": "1"})
    assert resp.status_code == 403


def test_an_admin_runs_the_canteen_too(browser, signed_in, dinner):
    signed_in("admin")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-canteen-menus"' in home and 'id="section-canteen"' in home
    assert browser.get(f"/console/canteen/menus?canteen_id={dinner['canteen_id']}").status_code == 200


def test_pages_need_a_sign_in(browser, app):
    for url in [*CANTEEN_PAGES, "/console/canteen/statements"]:
        assert browser.get(url).headers["Location"] == "/console/login"
    assert browser.post("/console/canteen/menu-items/1/portions").headers["Location"] == "/console/login"


def test_posts_without_the_csrf_token_are_refused(browser, signed_in, dinner):
    signed_in("canteen")
    item = dinner["items"]["青菜"]
    resp = browser.post(f"/console/canteen/menu-items/{item}/portions", data={"portions": "10"}, headers=HTMX)
    assert resp.status_code == 403 and "安全校验未通过" in resp.get_data(as_text=True)
    resp = browser.post("/console/canteen/copy-week", data={"canteen_id": dinner["canteen_id"]},
                        headers={**HTMX, "X-CSRF-Token": "forged"})
    assert resp.status_code == 403
    resp = browser.post("/console/canteen/dishes", data={"canteen_id": dinner["canteen_id"], "name": "伪造",
                                                         "window_id": "1", "price": "5", "csrf_token": "x"})
    assert resp.status_code == 403
    assert left(dinner, "青菜") == 47
    assert count(Dish, Dish.name == "伪造") == 0


# --- 菜品与菜单 ---------------------------------------------------------------------------------------


def test_a_dish_and_a_menu_are_created_and_shown_in_the_week(browser, signed_in, kitchen):
    signed_in("canteen")
    token = csrf(browser)
    resp = post(browser, "/console/canteen/dishes", {"canteen_id": kitchen.canteen_id, "name": "番茄炒蛋",
                                                     "window_id": kitchen.windows[1], "price": "6.5"}, token)
    assert resp.status_code == 200 and "/console/canteen/menus" in resp.headers["HX-Redirect"]
    dish = next(d for d in canteen.list_dishes(kitchen.canteen_id) if d.name == "番茄炒蛋")
    assert dish.price_fen == 650
    page = browser.get(f"/console/canteen/menus?canteen_id={kitchen.canteen_id}").get_data(as_text=True)
    assert "番茄炒蛋" in text_of(page, f"dish-{dish.id}") and "6.50" in text_of(page, f"dish-{dish.id}")

    pork = kitchen.dishes["红烧肉"]
    resp = post(browser, "/console/canteen/menus", {
        "canteen_id": kitchen.canteen_id, "day": "2026-10-15", "meal": "lunch", "max_per_order": "4",
        "dish_ids": [str(pork), str(dish.id)], f"portions_{pork}": "80", f"cap_{pork}": "1",
        f"price_staff_{pork}": "9", f"price_student_{pork}": "10.5", f"portions_{dish.id}": "40"}, token)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    menu_id = int(re.search(r"/console/canteen/menus/(\d+)$", resp.headers["HX-Redirect"]).group(1))
    view = canteen.menu_view(menu_id)
    assert (view.day, view.meal, view.max_per_order) == (date(2026, 10, 15), "lunch", 4)
    items = {i.name: i for i in view.items}
    assert items["红烧肉"].portions == 80 and items["红烧肉"].max_per_person == 1
    assert items["红烧肉"].prices == {"staff": 900, "student": 1050, "external": 1200}  # external: the dish's
    assert items["番茄炒蛋"].prices == {"staff": 650, "student": 650, "external": 650}
    week = browser.get(f"/console/canteen/menus?canteen_id={kitchen.canteen_id}").get_data(as_text=True)
    assert "红烧肉 剩 80/80" in text_of(week, "week-day-2026-10-15")
    menu_page = browser.get(f"/console/canteen/menus/{menu_id}").get_data(as_text=True)
    assert "教职工 9.00；学生 10.50；校外 12.00" in text_of(menu_page, f"menu-item-{items['红烧肉'].id}")

    again = post(browser, "/console/canteen/menus", {"canteen_id": kitchen.canteen_id, "day": "2026-10-15",
                                                     "meal": "lunch", "dish_ids": [str(pork)],
                                                     f"portions_{pork}": "5"}, token)
    assert again.status_code == 409 and again.headers["HX-Retarget"] == "#console-error"
    nothing = post(browser, "/console/canteen/menus", {"canteen_id": kitchen.canteen_id, "day": "2026-10-16",
                                                       "meal": "lunch"}, token)
    assert nothing.status_code == 422 and "请至少选择一个菜品" in nothing.get_data(as_text=True)


def _photo_form(token: str, data: bytes, name: str = "dish.jpg") -> dict:
    return {"csrf_token": token, "week": "2026-10-12", "file": (io.BytesIO(data), name)}


def test_dish_photos_are_uploaded_replaced_and_removed_on_the_dish_list(browser, signed_in, kitchen, storage):
    signed_in("canteen")
    token = csrf(browser)
    pork = kitchen.dishes["红烧肉"]
    page = browser.get(f"/console/canteen/menus?canteen_id={kitchen.canteen_id}").get_data(as_text=True)
    assert f'id="dish-thumb-{pork}"' not in page and "上传照片" in text_of(page, f"dish-{pork}")
    assert 'enctype="multipart/form-data"' in page and f'value="{token}"' in page  # the form carries the token

    resp = browser.post(f"/console/canteen/dishes/{pork}/photo", data=_photo_form(token, jpeg((800, 600), gps=True)),
                        content_type="multipart/form-data", headers=HTMX)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["HX-Redirect"] == f"/console/canteen/menus?canteen_id={kitchen.canteen_id}&week=2026-10-12"
    page = browser.get(f"/console/canteen/menus?canteen_id={kitchen.canteen_id}").get_data(as_text=True)
    src = re.search(rf'<img src="([^"]+)"[^>]*id="dish-thumb-{pork}"', page).group(1)
    assert src.startswith("/api/v1/canteen/dish-photos/") and "更换照片" in text_of(page, f"dish-{pork}")
    image = browser.get(src.replace("&amp;", "&"))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"  # the same signed link as the API's
    first = files(storage)
    assert len(first) == 1

    # a plain (non-htmx) form post works too: the token in the form, a 303 back to the list
    resp = browser.post(f"/console/canteen/dishes/{pork}/photo", data=_photo_form(token, jpeg((300, 200)), "b.jpg"),
                        content_type="multipart/form-data")
    assert resp.status_code == 303
    assert len(files(storage)) == 1 and files(storage) != first  # replaced: the old file is gone

    bad = browser.post(f"/console/canteen/dishes/{pork}/photo", data=_photo_form(token, b"%PDF-1.7 menu", "m.pdf"),
                       content_type="multipart/form-data", headers=HTMX)
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#console-error"
    assert "只能上传图片（JPG、PNG、WebP）" in bad.get_data(as_text=True)
    none = browser.post(f"/console/canteen/dishes/{pork}/photo", data={"csrf_token": token},
                        content_type="multipart/form-data", headers=HTMX)
    assert none.status_code == 422 and "请选择要上传的照片" in none.get_data(as_text=True)
    forged = browser.post(f"/console/canteen/dishes/{pork}/photo", data=_photo_form("forged", jpeg()),
                          content_type="multipart/form-data")
    assert forged.status_code == 403
    assert len(files(storage)) == 1

    resp = post(browser, f"/console/canteen/dishes/{pork}/photo/delete", {"week": "2026-10-12"}, token)
    assert resp.status_code == 200 and "HX-Redirect" in resp.headers
    page = browser.get(f"/console/canteen/menus?canteen_id={kitchen.canteen_id}").get_data(as_text=True)
    assert f'id="dish-thumb-{pork}"' not in page and files(storage) == []


def test_only_canteen_staff_upload_dish_photos_in_the_console(browser, signed_in, kitchen, storage):
    signed_in("dispatcher")
    token = csrf(browser)
    pork = kitchen.dishes["红烧肉"]
    resp = browser.post(f"/console/canteen/dishes/{pork}/photo", data=_photo_form(token, jpeg()),
                        content_type="multipart/form-data", headers=HTMX)
    assert resp.status_code == 403 and "仅食堂工作人员可以操作" in resp.get_data(as_text=True)
    assert post(browser, f"/console/canteen/dishes/{pork}/photo/delete", {}, token).status_code == 403
    assert files(storage) == []


def test_portions_change_through_htmx_never_below_what_is_ordered(browser, signed_in, dinner):
    signed_in("canteen")
    token = csrf(browser)
    pork = dinner["items"]["红烧肉"]
    resp = post(browser, f"/console/canteen/menu-items/{pork}/portions", {"portions": "40"}, token)
    assert resp.status_code == 200
    row = resp.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="menu-item-{pork}"')
    assert re.search(r'class="portions">40<', row) and re.search(r'class="remaining">34<', row)
    assert left(dinner, "红烧肉") == 34
    short = post(browser, f"/console/canteen/menu-items/{pork}/portions", {"portions": "5"}, token)
    assert short.status_code == 409 and "份数不能少于已订出的份数" in short.get_data(as_text=True)
    assert left(dinner, "红烧肉") == 34


def test_copy_week_copies_the_menus_to_the_next_week(browser, signed_in, kitchen):
    kitchen.menu(day=date(2026, 10, 13), meal="lunch", portions={"红烧肉": 70})
    kitchen.menu(day=date(2026, 10, 14), meal="dinner")
    signed_in("canteen")
    resp = post(browser, "/console/canteen/copy-week", {"canteen_id": kitchen.canteen_id, "week": "2026-10-14"})
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].endswith("week=2026-10-19") and "canteen_id=" in resp.headers["HX-Redirect"]
    copied = canteen.menus(day=date(2026, 10, 20), canteen_id=kitchen.canteen_id)
    assert [(m.meal, {i.name: i.portions for i in m.items}["红烧肉"]) for m in copied] == [("lunch", 70)]
    assert len(canteen.menus(day=date(2026, 10, 21), canteen_id=kitchen.canteen_id)) == 1
    page = browser.get(resp.headers["HX-Redirect"]).get_data(as_text=True)
    assert "红烧肉 剩 70/70" in text_of(page, "week-day-2026-10-20")
    post(browser, "/console/canteen/copy-week", {"canteen_id": kitchen.canteen_id, "week": "2026-10-12"})
    assert len(canteen.menus(day=date(2026, 10, 20), canteen_id=kitchen.canteen_id)) == 1  # skipped, not doubled


# --- 备餐单 -------------------------------------------------------------------------------------------


def test_the_production_sheet_and_the_live_progress_match_the_service(browser, signed_in, dinner):
    signed_in("canteen")
    page = browser.get(f"/console/canteen/menus/{dinner['id']}/sheet").get_data(as_text=True)
    sheet = canteen.production_sheet(actor=STAFF, menu_id=dinner["id"])
    for row in sheet["rows"]:
        cells = text_of(page, f"sheet-dish-{row.dish_id}")
        assert cells.startswith(f"{row.window_name} {row.dish_name} {row.ordered} {row.pending} {row.portions}")
    assert text_of(page, "sheet-total") == str(sheet["total_ordered"]) == "13"
    assert '<style media="print">' in page and "订餐尚未截止" in page
    assert 'hx-trigger="every 5s"' in page
    progress = canteen.progress(actor=STAFF, menu_id=dinner["id"])
    fragment = browser.get(f"/console/canteen/menus/{dinner['id']}/progress", headers=HTMX).get_data(as_text=True)
    assert figure(fragment, "progress-paid") == str(progress["paid"]) == "1"
    assert figure(fragment, "progress-picked") == str(progress["picked_up"]) == "1"


# --- 销售与损耗 ---------------------------------------------------------------------------------------


def test_sales_and_waste_with_the_chart_data_and_the_xlsx(app, browser, signed_in, dinner, clock):
    clock.move_to("2026-10-15T09:00:00+08:00")  # the pickup window ended: the order not collected is a no-show
    drain(app)
    assert canteen.progress(actor=STAFF, menu_id=dinner["id"])["no_show"] == 1
    signed_in("canteen")
    url = f"/console/canteen/sales?canteen_id={dinner['canteen_id']}&from=2026-10-14&to=2026-10-14"
    page = browser.get(url).get_data(as_text=True)
    rows = canteen.sales(actor=STAFF, canteen_id=dinner["canteen_id"], date_from=TODAY, date_to=TODAY)
    totals = text_of(page, "sales-totals")
    assert totals.startswith(f"合计 {sum(r.portions for r in rows)} {sum(r.sold for r in rows)} "
                             f"{sum(r.picked_up for r in rows)}")
    assert f"{sum(r.waste for r in rows)}" in totals and sum(r.sold for r in rows) == 13
    chart = re.search(r'<script id="sales-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert '"name": "10/14晚餐 红烧肉"' in chart and '"sold": 6' in chart and '"waste": 30' in chart
    assert 'id="chart-sales"' in page and "echarts.min.js" in page
    export = re.search(r'href="([^"]+)" id="sales-export"', page).group(1).replace("&amp;", "&")
    resp = browser.get(export)
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("日期", "餐次", "菜品", "供应份数", "售出")
    assert [(r[2], r[4], r[8]) for r in values[1:]] == [(r.dish_name, r.sold, r.waste) for r in rows]
    bad = browser.get(f"/console/canteen/sales?canteen_id={dinner['canteen_id']}&from=2026-10-14&to=2026-01-01")
    assert bad.status_code == 422


# --- 部门结算 -----------------------------------------------------------------------------------------


def test_the_department_statement_with_totals_and_the_xlsx(browser, signed_in, dinner):
    signed_in("canteen")
    url = f"/console/canteen/statements?department_id={dinner['department_id']}&month=2026-10"
    page = browser.get(url).get_data(as_text=True)
    s = canteen.statement(actor=STAFF, department_id=dinner["department_id"], month="2026-10")
    assert figure(page, "statement-orders") == str(s.orders) == "2"
    assert figure(page, "statement-headcount") == str(s.headcount) == "12"
    assert figure(page, "statement-total") == f"{s.total_fen / 100:,.2f}"
    for line in s.lines:
        assert line.items in text_of(page, f"statement-order-{line.order_id}")
    resp = browser.get(f"/console/canteen/statements/export?department_id={dinner['department_id']}&month=2026-10")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].endswith(
        f"canteen-statement-{dinner['department_id']}-2026-10.xlsx")
    values = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert values[-1][0] == "合计" and values[-1][-1] == s.total_fen / 100
    empty = browser.get(f"/console/canteen/statements?department_id={dinner['department_id']}&month=2026-09")
    assert "本月没有部门订单" in empty.get_data(as_text=True)


def test_orderers_are_added_and_removed(browser, signed_in, dinner, teacher):
    signed_in("canteen")
    chinese = dinner["department_id"]
    page = browser.get(f"/console/canteen/statements?department_id={chinese}").get_data(as_text=True)
    assert f'id="orderer-{teacher.user["id"]}"' in page
    token = csrf(browser)
    resp = post(browser, f"/console/canteen/departments/{chinese}/orderers/{teacher.user['id']}/remove", token=token)
    assert resp.status_code == 200 and "暂无订餐员" in resp.get_data(as_text=True)
    assert count(DepartmentOrderer, DepartmentOrderer.department_id == chinese) == 0
    assert f'<option value="{teacher.user["id"]}">' in resp.get_data(as_text=True)  # offered again
    resp = post(browser, f"/console/canteen/departments/{chinese}/orderers", {"user_id": teacher.user["id"]}, token)
    assert resp.status_code == 200 and f'id="orderer-{teacher.user["id"]}"' in resp.get_data(as_text=True)
    assert count(DepartmentOrderer, DepartmentOrderer.department_id == chinese) == 1
    other = post(browser, f"/console/canteen/departments/{department('后勤处')}/orderers",
                 {"user_id": teacher.user["id"]}, token)
    assert other.status_code == 422 and other.headers["HX-Retarget"] == "#console-error"


# --- the dashboard's figures ---------------------------------------------------------------------------


def test_day_figures_count_todays_paid_picked_up_and_no_shows(app, dinner, clock):
    assert canteen.day_figures(actor=STAFF, day=TODAY) == {"orders": 2, "picked_up": 1, "no_show": 0}
    assert canteen.day_figures(actor=STAFF, day=TODAY + timedelta(days=1)) == {"orders": 0, "picked_up": 0,
                                                                               "no_show": 0}
    with pytest.raises(canteen.access.NotCanteenStaff):
        canteen.day_figures(actor=Actor(user_id=0, roles=frozenset({"finance"})), day=TODAY)
    assert app_clock.local_now().date() == TODAY
    clock.move_to("2026-10-14T20:00:00+08:00")  # tonight's pickup window is over: the other order a no-show
    drain(app)
    assert canteen.day_figures(actor=STAFF, day=TODAY) == {"orders": 2, "picked_up": 1, "no_show": 1}


# --- in a real browser ---------------------------------------------------------------------------------


def test_canteen_staff_sign_in_with_the_link_see_the_sales_chart_and_change_portions(app, chrome, live_url, dinner,
                                                                                     screenshot):
    result = app.test_cli_runner().invoke(args=["console-link", "C0001"])  # 赵师傅 (食堂)
    assert result.exit_code == 0, result.output
    path = "/console/link/" + result.output.strip().splitlines()[0].split("/console/link/", 1)[1]
    chrome.get(f"{live_url}{path}")
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/"))
    assert "赵师傅" in chrome.find_element(By.TAG_NAME, "header").text
    assert chrome.find_element(By.CSS_SELECTOR, "#figure-canteen-today-orders .figure").text == "2"

    chrome.find_element(By.ID, "nav-canteen-sales").click()
    WebDriverWait(chrome, 10).until(ec.url_contains("/console/canteen/sales"))
    chrome.get(f"{live_url}/console/canteen/sales?canteen_id={dinner['canteen_id']}&from=2026-10-14&to=2026-10-14")
    canvas = WebDriverWait(chrome, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-sales canvas")))
    assert canvas.size["width"] > 100 and canvas.size["height"] > 100
    assert "红烧肉" in chrome.find_element(By.ID, "sales-rows").text
    screenshot("canteen-sales")

    chrome.get(f"{live_url}/console/canteen/menus?canteen_id={dinner['canteen_id']}")
    chrome.find_element(By.ID, f"menu-{dinner['id']}").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/canteen/menus/{dinner['id']}"))
    pork = dinner["items"]["红烧肉"]
    field = chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .portions-input")
    field.clear()
    field.send_keys("45")
    chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .set-portions").click()
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#menu-item-{pork} .remaining"), "39"))
    assert chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .portions").text == "45"
    assert chrome.current_url == f"{live_url}/console/canteen/menus/{dinner['id']}"  # a partial update
    assert left(dinner, "红烧肉") == 39

    field = chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .portions-input")
    field.clear()
    field.send_keys("1")
    chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .set-portions").click()
    WebDriverWait(chrome, 10).until(
        ec.text_to_be_present_in_element((By.ID, "console-error"), "份数不能少于已订出的份数"))
    assert chrome.find_element(By.CSS_SELECTOR, f"#menu-item-{pork} .portions").text == "45"
    assert [m for m in severe_logs(chrome) if "409" not in m] == []


def test_canteen_staff_upload_a_dish_photo_in_a_real_browser(app, chrome, live_url, kitchen, storage, tmp_path,
                                                             screenshot):
    result = app.test_cli_runner().invoke(args=["console-link", "C0001"])  # 赵师傅 (食堂)
    assert result.exit_code == 0, result.output
    path = "/console/link/" + result.output.strip().splitlines()[0].split("/console/link/", 1)[1]
    chrome.get(f"{live_url}{path}")
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/"))
    chrome.get(f"{live_url}/console/canteen/menus?canteen_id={kitchen.canteen_id}")
    pork = kitchen.dishes["红烧肉"]
    photo = tmp_path / "pork.jpg"
    photo.write_bytes(jpeg((640, 480), noise=True))
    chrome.find_element(By.ID, f"dish-photo-file-{pork}").send_keys(str(photo))
    chrome.find_element(By.ID, f"dish-photo-upload-{pork}").click()  # htmx posts multipart with the token
    thumb = WebDriverWait(chrome, 10).until(ec.presence_of_element_located((By.ID, f"dish-thumb-{pork}")))
    WebDriverWait(chrome, 10).until(lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", thumb))
    assert chrome.execute_script("return arguments[0].naturalWidth", thumb) == 640  # the photo until the thumbnail
    assert len(files(storage)) == 1
    screenshot("canteen-dish-photo")
    assert severe_logs(chrome) == []
