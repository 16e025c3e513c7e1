"""报修设置 in the console: categories, materials (元 in, fen stored), worker groups with members and duty,
dispatch rules, deadline policies and the holiday calendar (one day, or a whole list: every line or none).
Each action is checked against what the repairs API then answers; who may do what is the services' rule
(admins everything, dispatchers the groups and rules and read the rest, finance nothing); every POST needs
the CSRF token; bad input is a 4xx with the Chinese message and writes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.repairs.models import CalendarDay, DispatchRule, Material, RepairCategory, SlaPolicy, WorkerGroup
from tests.console.conftest import HTMX, csrf_of
from tests.repairs.conftest import (
    category_id,
    demo_group_id,
    second_worker,  # noqa: F401 - a fixture
    user_id,
)

TABS = ["/console/repairs/config", "/console/repairs/config/materials", "/console/repairs/config/groups",
        "/console/repairs/config/rules", "/console/repairs/config/deadlines", "/console/repairs/config/holidays"]


SPANS = {"accept_amount": "1", "accept_unit": "h", "arrive_amount": "2", "arrive_unit": "wd",
         "finish_amount": "5", "finish_unit": "wd"}


def post(browser, url: str, data: dict | None = None, *, token: bool = True):
    headers = dict(HTMX)
    if token:
        headers["X-CSRF-Token"] = csrf_of(browser.get("/console/").get_data(as_text=True))
    return browser.post(url, data=data or {}, headers=headers)


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audits(entity: str) -> int:
    return count(AuditEvent, AuditEvent.entity_type == entity)


def row(page: str, element_id: str) -> str:
    match = re.search(rf'<(tr|div) [^>]*id="{element_id}".*?</\1>', page, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()


def ok(resp) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert 'id="console-error" role="alert" hx-swap-oob="true"' in resp.get_data(as_text=True)  # clears old errors
    return resp.get_data(as_text=True)


def refused(resp, status: int, message: str) -> None:
    text = resp.get_data(as_text=True)
    assert resp.status_code == status and message in text, (resp.status_code, text)
    assert resp.headers["HX-Retarget"] == "#console-error"


# --- who ---------------------------------------------------------------------------------------------------


def test_admins_and_dispatchers_have_the_link_and_every_tab(browser, signed_in):
    signed_in("admin")
    assert 'id="nav-repairs-config"' in browser.get("/console/").get_data(as_text=True)
    for url in TABS:
        page = browser.get(url).get_data(as_text=True)
        assert "报修设置" in page and 'id="repairs-config-tabs"' in page, url
    assert 'id="add-category"' in browser.get(TABS[0]).get_data(as_text=True)


def test_a_dispatcher_reads_the_catalogue_and_the_calendar_but_cannot_change_them(browser, signed_in):
    signed_in("dispatcher")
    assert 'id="nav-repairs-config"' in browser.get("/console/").get_data(as_text=True)
    pages = {url: browser.get(url) for url in TABS}
    assert all(resp.status_code == 200 for resp in pages.values())
    assert "水电" in pages[TABS[0]].get_data(as_text=True) and 'id="add-category"' not in pages[TABS[0]].get_data(
        as_text=True)
    assert "LED 灯管" in pages[TABS[1]].get_data(as_text=True)
    assert 'id="add-group"' in pages[TABS[2]].get_data(as_text=True)  # groups and rules are theirs
    assert 'id="import-text"' not in pages[TABS[5]].get_data(as_text=True)
    for url, data in [("/console/repairs/config/categories", {"code": "lift", "name": "电梯"}),
                      ("/console/repairs/config/materials", {"name": "灯泡", "unit": "个", "price": "8"}),
                      ("/console/repairs/config/deadlines", {"urgency": "normal", **SPANS}),
                      ("/console/repairs/config/holidays", {"day": "2026-12-31", "kind": "holiday"}),
                      ("/console/repairs/config/holidays/import", {"text": "2027-01-01 休 元旦", "dry_run": "0"})]:
        refused(post(browser, url, data), 403, "没有权限执行此操作")
    assert count(RepairCategory, RepairCategory.code == "lift") == 0 and count(Material, Material.name == "灯泡") == 0
    assert count(SlaPolicy, SlaPolicy.finish_span == "5wd") == 0
    assert count(CalendarDay, CalendarDay.day >= date(2026, 12, 31)) == 0


def test_finance_gets_403_everywhere_and_no_link(browser, signed_in):
    signed_in("finance")
    assert 'id="nav-repairs-config"' not in browser.get("/console/").get_data(as_text=True)
    for url in TABS:
        resp = browser.get(url)
        assert resp.status_code == 403 and "没有权限执行此操作" in resp.get_data(as_text=True), url
    refused(post(browser, "/console/repairs/config/groups", {"name": "财务组"}), 403, "没有权限执行此操作")
    refused(post(browser, f"/console/repairs/config/groups/{demo_group_id()}/members/{user_id('worker')}/remove"),
            403, "没有权限执行此操作")
    assert count(WorkerGroup) == 1 and audits("repair_group") == 0


def test_the_pages_need_a_sign_in(browser):
    assert browser.get("/console/repairs/config").headers["Location"] == "/console/login"


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(browser, signed_in):
    signed_in("admin")
    rule = db.session.scalar(select(DispatchRule.id))
    for url, data in [("/console/repairs/config/categories", {"code": "lift", "name": "电梯"}),
                      (f"/console/repairs/config/categories/{category_id()}/active", {"active": "0"}),
                      ("/console/repairs/config/materials", {"name": "灯泡", "unit": "个", "price": "8"}),
                      ("/console/repairs/config/groups", {"name": "木工班"}),
                      (f"/console/repairs/config/groups/{demo_group_id()}/members/{user_id('worker')}/duty",
                       {"on_duty": "0"}),
                      (f"/console/repairs/config/rules/{rule}/delete", {}),
                      ("/console/repairs/config/holidays", {"day": "2026-12-31", "kind": "holiday"}),
                      ("/console/repairs/config/holidays/2026-10-01/delete", {}),
                      ("/console/repairs/config/holidays/import", {"text": "2027-01-01 休 元旦", "dry_run": "0"})]:
        refused(post(browser, url, data, token=False), 403, "安全校验未通过")
    assert count(RepairCategory, RepairCategory.active.is_(False)) == 0 and count(RepairCategory) == 7
    assert count(Material) == 7 and count(WorkerGroup) == 1 and count(DispatchRule) == 1
    assert count(CalendarDay, CalendarDay.day.in_([date(2026, 12, 31), date(2027, 1, 1)])) == 0
    assert count(CalendarDay, CalendarDay.day == date(2026, 10, 1)) == 1
    assert count(AuditEvent, AuditEvent.entity_type.like("repair_%")) == 0


# --- 分类 ----------------------------------------------------------------------------------------------------


def test_admin_adds_edits_retires_and_restores_a_category(browser, signed_in, login):
    signed_in("admin")
    api = login("admin")
    page = ok(post(browser, "/console/repairs/config/categories",
                   {"code": "lift", "name": "电梯", "icon": "🛗", "color": "#123456", "sort_order": "8"}))
    lift = db.session.scalar(select(RepairCategory).where(RepairCategory.code == "lift"))
    assert row(page, f"category-{lift.id}") == "8 🛗 lift 电梯 #123456 启用 编辑 名称 图标 颜色 排序 保存 停用"
    assert 'id="add-category"' in page  # the whole section, with a fresh form
    assert "电梯" in [c["name"] for c in api.get("/api/v1/repairs/categories").json]

    edited = ok(post(browser, f"/console/repairs/config/categories/{lift.id}",
                     {"name": "升降梯", "icon": "🛗", "color": "#654321", "sort_order": "2"}))
    assert edited.startswith(f'<tr id="category-{lift.id}"') and "升降梯" in row(edited, f"category-{lift.id}")
    retired = ok(post(browser, f"/console/repairs/config/categories/{lift.id}/active", {"active": "0"}))
    assert "已停用" in row(retired, f"category-{lift.id}") and ">启用</button>" in retired
    assert "升降梯" not in [c["name"] for c in api.get("/api/v1/repairs/categories").json]
    assert "升降梯" in browser.get("/console/repairs/config").get_data(as_text=True)  # still listed here
    ok(post(browser, f"/console/repairs/config/categories/{lift.id}/active", {"active": "1"}))
    listed = api.get("/api/v1/repairs/categories").json
    assert [c["name"] for c in listed][:4] == ["水电", "木工", "空调", "升降梯"]  # sort order 2, after 空调 (2)
    assert audits("repair_category") == 4


@pytest.mark.parametrize(("form", "message"), [
    ({"code": "Lift!", "name": "电梯"}, "编码：格式不正确"),
    ({"code": "lift", "name": ""}, "名称：必填"),
    ({"code": "lift", "name": "电梯\u202e"}, "名称：不能包含控制字符"),
    ({"code": "lift", "name": "电梯", "color": "red"}, "颜色：颜色格式如 #07c160"),
    ({"code": "lift", "name": "电梯", "sort_order": "1.5"}, "排序：应为整数"),
    ({"code": "water_electric", "name": "水电2"}, "类别编码已存在"),
])
def test_a_bad_category_is_refused_and_nothing_is_written(browser, signed_in, form, message):
    signed_in("admin")
    refused(post(browser, "/console/repairs/config/categories", form), 409 if "已存在" in message else 422, message)
    assert count(RepairCategory) == 7 and audits("repair_category") == 0


def test_editing_a_category_checks_the_same_rules(browser, signed_in):
    signed_in("admin")
    water = category_id()
    refused(post(browser, f"/console/repairs/config/categories/{water}", {"name": "", "icon": "💡",
                                                                       "color": "#1989fa", "sort_order": "0"}),
            422, "名称：应为 1 到 20 个字")
    refused(post(browser, "/console/repairs/config/categories/999999", {"name": "x"}), 404, "类别不存在")
    assert db.session.get(RepairCategory, water).name == "水电" and audits("repair_category") == 0


# --- 材料 ----------------------------------------------------------------------------------------------------


def test_materials_are_typed_in_yuan_and_stored_in_fen(browser, signed_in, login):
    signed_in("admin")
    page = ok(post(browser, "/console/repairs/config/materials", {"name": "灯泡 E27", "unit": "个", "price": "12.5"}))
    bulb = db.session.scalar(select(Material).where(Material.name == "灯泡 E27"))
    assert bulb.unit_cost_fen == 1250 and "灯泡 E27 个 12.50 启用" in row(page, f"material-{bulb.id}")
    edited = ok(post(browser, f"/console/repairs/config/materials/{bulb.id}",
                     {"name": "灯泡 E27", "unit": "只", "price": "13"}))
    assert "灯泡 E27 只 13.00 启用" in row(edited, f"material-{bulb.id}")
    assert 'name="price" value="13.00"' in edited  # the edit form shows 元 too
    api = {m["name"]: m for m in login("worker").get("/api/v1/repairs/materials").json}
    assert api["灯泡 E27"]["unit_cost_fen"] == 1300 and api["灯泡 E27"]["unit"] == "只"
    ok(post(browser, f"/console/repairs/config/materials/{bulb.id}/active", {"active": "0"}))
    assert "灯泡 E27" not in [m["name"] for m in login("worker").get("/api/v1/repairs/materials").json]


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "灯泡", "unit": "个", "price": "abc"}, "金额应为大于 0 的数字"),
    ({"name": "灯泡", "unit": "个", "price": "1.255"}, "最多两位小数"),
    ({"name": "灯泡", "unit": "个", "price": "100001"}, "不超过 100000 元"),
    ({"name": "灯泡", "unit": "", "price": "1"}, "单位：应为 1 到 10 个字"),
    ({"name": "LED 灯管 T8 1.2m", "unit": "根", "price": "1"}, "材料名称已存在"),
])
def test_a_bad_material_is_refused_and_nothing_is_written(browser, signed_in, form, message):
    signed_in("admin")
    refused(post(browser, "/console/repairs/config/materials", form), 409 if "已存在" in message else 422, message)
    assert count(Material) == 7 and audits("repair_material") == 0


# --- 维修班组 ------------------------------------------------------------------------------------------------


def test_a_dispatcher_builds_a_group_and_sets_who_is_on_duty(browser, signed_in, login,
                                                             second_worker):  # noqa: F811 - the fixture
    signed_in("dispatcher")
    api = login("dispatcher")
    page = ok(post(browser, "/console/repairs/config/groups", {"name": "木工班", "dispatch_mode": "pool"}))
    group = db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == "木工班"))
    assert "抢单" in row(page, f"group-{group}") and "还没有组员" in row(page, f"group-{group}")
    w1, w2 = user_id("worker"), second_worker.user["id"]
    added = ok(post(browser, f"/console/repairs/config/groups/{group}/members", {"user_id": str(w2)}))  # not ticked
    assert added.startswith(f'<div class="card group" id="group-{group}"')
    assert row(added, f"group-{group}-member-{w2}").startswith("郑师傅 休息 设为在岗")
    ok(post(browser, f"/console/repairs/config/groups/{group}/members", {"user_id": str(w1), "on_duty": "1"}))
    on = ok(post(browser, f"/console/repairs/config/groups/{group}/members/{w2}/duty", {"on_duty": "1"}))
    assert row(on, f"group-{group}-member-{w2}").startswith("郑师傅 在岗 设为休息")
    members = {m["name"]: m["on_duty"] for m in next(
        g for g in api.get("/api/v1/repairs/groups").json if g["id"] == group)["members"]}
    assert members == {"郑师傅": True, "李师傅": True}
    removed = ok(post(browser, f"/console/repairs/config/groups/{group}/members/{w1}/remove"))
    assert f"group-{group}-member-{w1}" not in removed and f'<option value="{w1}">李师傅' in removed
    renamed = ok(post(browser, f"/console/repairs/config/groups/{group}", {"name": "木工组", "dispatch_mode": "auto"}))
    assert "木工组" in row(renamed, f"group-{group}") and "自动派单" in row(renamed, f"group-{group}")
    retired = ok(post(browser, f"/console/repairs/config/groups/{group}/active", {"active": "0"}))
    assert "（已停用）" in row(retired, f"group-{group}")
    group_api = next(g for g in api.get("/api/v1/repairs/groups").json if g["id"] == group)
    assert group_api["name"] == "木工组" and group_api["active"] is False and group_api["dispatch_mode"] == "auto"
    assert [m["name"] for m in group_api["members"]] == ["郑师傅"]


def test_bad_group_changes_are_refused(browser, signed_in):
    signed_in("dispatcher")
    group = demo_group_id()
    refused(post(browser, f"/console/repairs/config/groups/{group}/members", {"user_id": str(user_id("teacher"))}),
            422, "该用户不是在职维修工")
    refused(post(browser, f"/console/repairs/config/groups/{group}/members", {"user_id": ""}), 422, "请选择维修工")
    refused(post(browser, "/console/repairs/config/groups", {"name": "综合维修组"}), 409, "维修组名称已存在")
    refused(post(browser, "/console/repairs/config/groups", {"name": "x", "dispatch_mode": "fastest"}), 422,
            "派单方式：应为以下之一")
    refused(post(browser, f"/console/repairs/config/groups/{group}/members/{user_id('teacher')}/remove"), 404,
            "该维修工不在此组")
    assert count(WorkerGroup) == 1 and audits("repair_group") == 0


# --- 派单规则 ------------------------------------------------------------------------------------------------


def test_dispatch_rules_are_put_replaced_and_deleted(browser, signed_in, login):
    signed_in("dispatcher")
    api = login("dispatcher")
    page = browser.get("/console/repairs/config/rules").get_data(as_text=True)
    assert "全部类别 全部楼栋 综合维修组" in row(page, f"rule-{db.session.scalar(select(DispatchRule.id))}")
    network_group = api.post("/api/v1/repairs/groups", json={"name": "网络组"}).json["id"]
    building = re.search(r'<select name="building_id">.*?<option value="(\d+)">([^<]+)</option>', page, re.S)
    saved = ok(post(browser, "/console/repairs/config/rules", {"category_id": str(category_id("network")),
                                                               "building_id": building[1],
                                                               "group_id": str(network_group)}))
    rule = next(r for r in api.get("/api/v1/repairs/dispatch-rules").json if r["group_id"] == network_group)
    assert rule["category_id"] == category_id("network") and rule["building_id"] == int(building[1])
    assert row(saved, f"rule-{rule['id']}").startswith(f"网络 {building[2]} 网络组")
    ok(post(browser, "/console/repairs/config/rules", {"category_id": str(category_id("network")),
                                                       "building_id": building[1], "group_id": str(demo_group_id())}))
    assert len(api.get("/api/v1/repairs/dispatch-rules").json) == 2  # the same scope: replaced
    gone = ok(post(browser, f"/console/repairs/config/rules/{rule['id']}/delete"))
    assert f'id="rule-{rule["id"]}"' not in gone and len(api.get("/api/v1/repairs/dispatch-rules").json) == 1
    assert 'hx-confirm="删除规则' in gone  # deleting asks first


def test_bad_rules_are_refused(browser, signed_in):
    signed_in("dispatcher")
    refused(post(browser, "/console/repairs/config/rules", {"category_id": "", "building_id": ""}), 422,
            "维修组：不能为空")
    refused(post(browser, "/console/repairs/config/rules", {"category_id": "abc", "group_id": str(demo_group_id())}),
            422, "请从列表中选择")
    refused(post(browser, "/console/repairs/config/rules", {"category_id": "999999",
                                                            "group_id": str(demo_group_id())}), 422, "类别不存在")
    refused(post(browser, "/console/repairs/config/rules/999999/delete"), 404, "派单规则不存在")
    assert count(DispatchRule) == 1 and audits("repair_dispatch_rule") == 0


# --- 时限 ----------------------------------------------------------------------------------------------------

def test_admin_sets_a_deadline_policy_in_clock_or_working_time(browser, signed_in, login):
    signed_in("admin")
    page = browser.get("/console/repairs/config/deadlines").get_data(as_text=True)
    assert "普通——接单 30分钟、到场 24小时、完成 3个工作日" in page  # the school's written policy
    saved = ok(post(browser, "/console/repairs/config/deadlines",
                    {"category_id": str(category_id("aircon")), "urgency": "urgent", **SPANS}))
    policy = next(p for p in login("dispatcher").get("/api/v1/repairs/sla-policies").json
                  if p["category_id"] == category_id("aircon"))
    assert (policy["urgency"], policy["accept_span"], policy["arrive_span"], policy["finish_span"]) == (
        "urgent", "1h", "2wd", "5wd")
    assert row(saved, f"policy-{policy['id']}") == "空调 紧急 1小时 2个工作日 （工作时间） 5个工作日 （工作时间）"
    ok(post(browser, "/console/repairs/config/deadlines",
            {"category_id": str(category_id("aircon")), "urgency": "urgent", **SPANS, "finish_amount": "48",
             "finish_unit": "h"}))
    assert count(SlaPolicy, SlaPolicy.category_id == category_id("aircon")) == 1  # replaced, not added
    assert db.session.scalar(select(SlaPolicy.finish_span).where(SlaPolicy.id == policy["id"])) == "48h"


@pytest.mark.parametrize(("change", "message"), [
    ({"accept_amount": ""}, "接单时限：时限格式如 30m、2h、1d、8wh、3wd"),
    ({"finish_amount": "0"}, "完成时限：时限格式如"),
    ({"arrive_unit": "y"}, "到场时限：时限格式如"),
    ({"urgency": "whenever"}, "紧急程度：应为以下之一"),
])
def test_a_bad_policy_is_refused_and_nothing_is_written(browser, signed_in, change, message):
    signed_in("admin")
    before = count(SlaPolicy)
    refused(post(browser, "/console/repairs/config/deadlines", {"urgency": "normal", **SPANS, **change}), 422, message)
    assert count(SlaPolicy) == before and audits("repair_sla_policy") == 0


# --- 节假日 --------------------------------------------------------------------------------------------------


def test_the_calendar_of_a_year_one_day_added_and_removed(browser, signed_in, login):
    signed_in("admin")
    page = browser.get("/console/repairs/config/holidays?year=2026").get_data(as_text=True)
    assert row(page, "day-2026-10-01").startswith("2026-10-01 星期四 放假 国庆节")
    assert row(page, "day-2026-10-10").startswith("2026-10-10 星期六 调休上班")
    added = ok(post(browser, "/console/repairs/config/holidays", {"day": "2026-12-31", "kind": "holiday",
                                                                  "name": "校庆"}))
    assert row(added, "day-2026-12-31").startswith("2026-12-31 星期四 放假 校庆")
    api = {d["day"]: d for d in login("admin").get("/api/v1/repairs/calendar?year=2026").json}
    assert api["2026-12-31"] == {"day": "2026-12-31", "kind": "holiday", "name": "校庆"}
    removed = ok(post(browser, "/console/repairs/config/holidays/2026-12-31/delete"))
    assert 'id="day-2026-12-31"' not in removed and 'hx-confirm="删除 2026-10-01 的安排' in removed
    assert "2026-12-31" not in {d["day"] for d in login("admin").get("/api/v1/repairs/calendar?year=2026").json}
    assert "2027 年还没有放假或调休安排" in browser.get("/console/repairs/config/holidays?year=2027").get_data(
        as_text=True)


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"day": "", "kind": "holiday"}, 422, "请填写日期"),
    ({"day": "2026-13-01", "kind": "holiday"}, 422, "日期格式应为 YYYY-MM-DD"),
    ({"day": "9999-12-31", "kind": "holiday"}, 422, "日期应在 2000 年到 2100 年之间"),
    ({"day": "2026-12-31", "kind": "party"}, 422, "类型：应为以下之一"),
    ({"day": "2026-12-31", "kind": "holiday", "name": "节" * 21}, 422, "名称：最多 20 个字"),
])
def test_a_bad_day_is_refused_and_nothing_is_written(browser, signed_in, form, status, message):
    signed_in("admin")
    before = count(CalendarDay)
    refused(post(browser, "/console/repairs/config/holidays", form), status, message)
    assert count(CalendarDay) == before and audits("repair_calendar") == 0


YEAR_2027 = """# 2027 年放假安排
2027-01-01~2027-01-03 休 元旦
2027-02-06至2027-02-13，休，春节
2027-02-14 班 春节调休

2027-10-01~2027-10-07 休 国庆节
2027-10-09 班 国庆调休
"""


def test_a_whole_year_is_checked_first_then_added_at_once(browser, signed_in, login):
    signed_in("admin")
    page = browser.get("/console/repairs/config/holidays?year=2027").get_data(as_text=True)
    assert 'id="import-text"' in page and 'id="import-form"' in page
    preview = ok(post(browser, "/console/repairs/config/holidays/import", {"text": YEAR_2027, "dry_run": "1",
                                                                           "year": "2027"}))
    assert 'data-dry-run="true"' in preview and "共 <strong class=\"days\">20</strong> 天" in preview
    assert "放假 18 天，调休上班 2 天" in preview and "尚未添加" in preview
    assert count(CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 0  # a dry run writes nothing
    done = ok(post(browser, "/console/repairs/config/holidays/import", {"text": YEAR_2027, "dry_run": "0",
                                                                        "year": "2027"}))
    assert "已添加：新增 <strong class=\"new\">20</strong> 天" in done
    assert '<section id="config-section" hx-swap-oob="true">' in done  # the year's list, refreshed
    assert row(done, "day-2027-02-14").startswith("2027-02-14 星期日 调休上班 春节调休")
    api = {d["day"]: d for d in login("admin").get("/api/v1/repairs/calendar?year=2027").json}
    assert len(api) == 20 and api["2027-02-10"] == {"day": "2027-02-10", "kind": "holiday", "name": "春节"}
    again = ok(post(browser, "/console/repairs/config/holidays/import", {"text": YEAR_2027, "dry_run": "0"}))
    assert "新增 <strong class=\"new\">0</strong> 天" in again and "20 天已是如此（未改动）" in again
    assert audits("repair_calendar") == 20  # one per day written, nothing for the repeat


def test_one_bad_line_writes_nothing_and_every_bad_line_is_listed(browser, signed_in):
    signed_in("admin")
    text = YEAR_2027 + "2027-02-30 休 错误\n2027-10-08 班 周五\n2027-10-05 休 重复\n2027-05-01 放 劳动节\n"
    resp = post(browser, "/console/repairs/config/holidays/import", {"text": text, "dry_run": "0"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "有 4 行有误，未添加任何日期" in page
    errors = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0))).strip()
              for m in re.finditer(r'<tr class="calendar-error">.*?</tr>', page, re.S)]
    assert errors == ["8 2027-02-30 休 错误 日期不存在：2027-02-30",
                      "9 2027-10-08 班 周五 2027-10-08 是星期五，本来就上班，不必设为调休上班",
                      "10 2027-10-05 休 重复 2027-10-05 与第 6 行重复",
                      "11 2027-05-01 放 劳动节 类型“放”无法识别：放假写“休”，调休上班写“班”"]
    assert count(CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 0 and audits("repair_calendar") == 0


def test_the_form_rows_are_lines_too(browser, signed_in):
    signed_in("admin")
    form = {"first_1": "2027-05-01", "last_1": "2027-05-05", "kind_1": "休", "name_1": "劳动节",
            "first_2": "", "last_2": "", "kind_2": "休", "name_2": "",
            "first_3": "2027-04-25", "last_3": "", "kind_3": "班", "name_3": "劳动节调休", "dry_run": "0"}
    done = ok(post(browser, "/console/repairs/config/holidays/import", form))
    assert "新增 <strong class=\"new\">6</strong> 天" in done
    assert count(CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 6
    bad = post(browser, "/console/repairs/config/holidays/import",
               {**form, "first_3": "", "last_3": "2027-06-01", "first_4": "2027-06-02", "kind_4": "假"})
    text = bad.get_data(as_text=True)
    assert "有 1 行有误" in text and re.search(r"<td>3</td>\s*<td class=\"line\">~2027-06-01 班", text)
    assert count(CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 6


def test_an_empty_or_oversized_list_is_refused(browser, signed_in):
    signed_in("admin")
    refused(post(browser, "/console/repairs/config/holidays/import", {"text": "\n# 只有注释\n", "dry_run": "1"}),
            422, "请填写要添加的日期，每行一条")
    refused(post(browser, "/console/repairs/config/holidays/import",
                 {"text": "2027-01-01 休\n" * 401, "dry_run": "1"}), 422, "一次最多 400 行")
