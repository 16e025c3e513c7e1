"""人员 and 场所 in the console: the roster import (a dry run listing every bad row, writing nothing; then
确认导入 of the kept sheet through the users service the API uses), the staff list with roles granted and
revoked (audited by the service), the places tree and the printable A4 sheet of a building's room codes;
who may see what (admins; dispatchers the places; finance nothing) and CSRF."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.places.models import Place
from app.users.models import SchoolClass, StaffMember, Student
from tests.console.conftest import HTMX
from tests.console.test_finance import count, csrf, post, sheet_errors
from tests.support import xlsx


def _import(browser, kind, rows, token):
    return post(browser, f"/console/people/import/{kind}", {"file": (xlsx(rows), f"{kind}.xlsx")}, token,
                content_type="multipart/form-data")


def _staff(number: str) -> StaffMember:
    db.session.rollback()
    return db.session.scalar(select(StaffMember).where(StaffMember.number == number))


def _place_id(code: str) -> int:
    return db.session.scalar(select(Place.id).where(Place.code == code))


# --- who -----------------------------------------------------------------------------------------------


def test_an_admin_has_the_people_and_places_menu(browser, signed_in):
    signed_in("admin")
    home = browser.get("/console/").get_data(as_text=True)
    for nav in ("nav-people", "nav-places", "nav-meetings", "nav-notices"):
        assert f'id="{nav}"' in home
    page = browser.get("/console/people").get_data(as_text=True)
    assert 'id="import-staff"' in page and 'id="import-students"' in page
    assert 'id="staff-' in page and "孙主任" in page


def test_finance_and_dispatchers_get_the_services_403(browser, signed_in):
    signed_in("dispatcher")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-people"' not in home and 'id="nav-places"' in home
    resp = browser.get("/console/people")
    assert resp.status_code == 403 and "没有权限" in resp.get_data(as_text=True)
    token = csrf(browser)
    teacher = _staff("T0001")
    assert _import(browser, "staff", [["工号", "姓名"], ["T9001", "新老师"]], token).status_code == 403
    resp = post(browser, f"/console/people/staff/{teacher.id}/roles/grant", {"role": "admin"}, token)
    assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#console-error"
    assert _staff("T0001").roles == ["teacher"] and count(StaffMember, StaffMember.number == "T9001") == 0
    assert browser.get("/console/places").status_code == 200  # dispatchers print room codes

    signed_in("finance")
    assert browser.get("/console/places").status_code == 403
    assert browser.get(f"/console/places/{_place_id('E-TA-101')}/code").status_code == 403


def test_pages_need_a_sign_in(browser, app):
    for url in ["/console/people", "/console/places", "/console/places/1/codes"]:
        assert browser.get(url).headers["Location"] == "/console/login"
    assert browser.post("/console/people/import/staff").headers["Location"] == "/console/login"


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(browser, signed_in):
    signed_in("admin")
    teacher = _staff("T0001")
    sheet = xlsx([["工号", "姓名"], ["T9001", "新老师"]])
    for url, data in [("/console/people/import/staff", {"file": (sheet, "a.xlsx")}),
                      ("/console/people/import/staff/confirm", {"token": "x"}),
                      (f"/console/people/staff/{teacher.id}/roles/grant", {"role": "admin"}),
                      (f"/console/people/staff/{teacher.id}/roles/revoke", {"role": "teacher"})]:
        resp = browser.post(url, data=data, headers=HTMX, content_type="multipart/form-data")
        assert resp.status_code == 403 and "安全校验未通过" in resp.get_data(as_text=True), url
    assert _staff("T0001").roles == ["teacher"] and count(StaffMember, StaffMember.number == "T9001") == 0


# --- 导入花名册 -----------------------------------------------------------------------------------------


def test_a_dry_run_with_bad_rows_lists_each_and_writes_nothing(browser, signed_in):
    signed_in("admin")
    token = csrf(browser)
    resp = _import(browser, "students", [
        ["学号", "姓名", "班级"],
        ["S3000001", "新同学", "高一(1)班"],
        ["S3000002", "", "高一(1)班"],
        ["S3000003", "错班", "高九(9)班"],
        ["S3000001", "重复", "高一(2)班"],
    ], token)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "表格有 3 处错误，未导入任何数据" in body
    assert sheet_errors(body) == [("3", "姓名", "缺少姓名"), ("4", "班级", "未知班级“高九(9)班”"),
                    ("5", "学号", "学号重复（与第 2 行重复）")]
    assert "import-students-confirm" not in body
    assert count(Student, Student.number.like("S3%")) == 0
    assert count(AuditEvent, AuditEvent.entity_type == "student_import") == 0


def test_a_clean_sheet_is_checked_then_imported_on_confirmation(browser, signed_in, login):
    signed_in("admin")
    token = csrf(browser)
    resp = _import(browser, "staff", [["工号", "姓名", "部门", "手机号", "角色"],
                                      ["T9001", "新老师", "数学教研组", "13900000001", "教职工"],
                                      ["T0002", "周老师", "数学教研组", "", "教职工,维修工"]], token)
    body = resp.get_data(as_text=True)
    assert '<strong class="created">1</strong>' in body and '<strong class="updated">1</strong>' in body
    assert "尚未导入" in body and count(StaffMember, StaffMember.number == "T9001") == 0
    sheet_token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    # the kept sheet is for the staff import only
    assert post(browser, "/console/people/import/students/confirm", {"token": sheet_token}, token).status_code == 404
    assert count(StaffMember, StaffMember.number == "T9001") == 0

    done = post(browser, "/console/people/import/staff/confirm", {"token": sheet_token}, token)
    assert "已导入：新增 <strong class=\"created\">1</strong>" in done.get_data(as_text=True)
    assert _staff("T9001").name == "新老师" and _staff("T0002").roles == ["teacher", "worker"]
    assert count(AuditEvent, AuditEvent.entity_type == "staff_import") == 1
    # and the API's list has them (the same service)
    listed = login("admin").get("/api/v1/admin/staff?q=T9001").get_json()
    assert [s["name"] for s in listed] == ["新老师"]
    again = post(browser, "/console/people/import/staff/confirm", {"token": sheet_token}, token)
    assert again.status_code == 404 and "上传的表格已过期" in again.get_data(as_text=True)
    unreadable = post(browser, "/console/people/import/staff", {"file": (io.BytesIO(b"nope"), "x.xlsx")}, token,
                      content_type="multipart/form-data")
    assert unreadable.status_code == 422 and unreadable.headers["HX-Retarget"] == "#console-error"
    missing = post(browser, "/console/people/import/staff", {}, token)
    assert missing.status_code == 422 and "请选择要上传的 .xlsx 文件" in missing.get_data(as_text=True)
    assert browser.post("/console/people/import/teachers", headers={**HTMX, "X-CSRF-Token": token}).status_code == 404


# --- 教职工与角色 ---------------------------------------------------------------------------------------


def names(page: str) -> list[str]:
    return re.findall(r'<td class="name">([^<]+)</td>', page)


def test_the_staff_list_is_searchable_and_paginated(browser, signed_in, login):
    rows = [["工号", "姓名", "部门", "手机号", "角色"],
            *([f"X{n:03d}", f"新{n:03d}", "", "", ""] for n in range(1, 26))]
    resp = login("admin").post("/api/v1/admin/roster/staff", data={"file": (xlsx(rows), "s.xlsx")},
                               content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    signed_in("admin")
    assert names(browser.get("/console/people?q=周").get_data(as_text=True)) == ["周老师"]
    assert names(browser.get("/console/people?role=worker").get_data(as_text=True)) == ["李师傅", "郑师傅"]
    first = browser.get("/console/people?q=X0").get_data(as_text=True)
    assert names(first) == [f"新{n:03d}" for n in range(1, 21)] and "共 25 条 · 第 1 / 2 页" in first
    assert "/console/people?page=2&amp;q=X0" in first
    second = browser.get("/console/people?page=2&q=X0").get_data(as_text=True)
    assert names(second) == [f"新{n:03d}" for n in range(21, 26)]


def test_the_students_list_is_searchable_by_class_and_paginated(browser, signed_in, login):
    rows = [["学号", "姓名", "班级"], *([f"S4{n:06d}", f"学生{n:02d}", "高二(2)班"] for n in range(1, 23))]
    resp = login("admin").post("/api/v1/admin/roster/students", data={"file": (xlsx(rows), "s.xlsx")},
                               content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    signed_in("admin")
    assert names(browser.get("/console/people/students?q=陈").get_data(as_text=True)) == ["陈同学"]
    klass = db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == "高一(1)班"))
    page = browser.get(f"/console/people/students?class_id={klass}").get_data(as_text=True)
    assert names(page) == ["陈同学", "林同学"] and "138****0009" in page  # parent phones masked
    other = db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == "高二(2)班"))
    first = browser.get(f"/console/people/students?class_id={other}").get_data(as_text=True)
    assert len(names(first)) == 20 and "共 22 条 · 第 1 / 2 页" in first
    assert f"/console/people/students?page=2&amp;class_id={other}" in first
    second = browser.get(f"/console/people/students?class_id={other}&page=2").get_data(as_text=True)
    assert names(second) == ["学生21", "学生22"]
    signed_in("dispatcher")
    assert browser.get("/console/people/students").status_code == 403


def test_grant_then_revoke_a_role_through_the_service_audited(browser, signed_in):
    signed_in("admin")
    token = csrf(browser)
    teacher = _staff("T0001")
    row = post(browser, f"/console/people/staff/{teacher.id}/roles/grant", {"role": "dispatcher"}, token)
    assert row.status_code == 200 and f'<tr id="staff-{teacher.id}">' in row.get_data(as_text=True)
    assert _staff("T0001").roles == ["teacher", "dispatcher"]
    assert 'data-role="dispatcher"' in row.get_data(as_text=True)
    page = browser.get("/console/people?q=T0001").get_data(as_text=True)
    assert "hx-confirm=\"取消张老师（T0001）的“报修调度”角色，确定？\"" in page  # asks before revoking
    row = post(browser, f"/console/people/staff/{teacher.id}/roles/revoke", {"role": "dispatcher"}, token)
    assert _staff("T0001").roles == ["teacher"] and 'data-role="dispatcher"' not in row.get_data(as_text=True)
    events = count(AuditEvent, AuditEvent.entity_type == "staff_member", AuditEvent.entity_id == teacher.id,
                   AuditEvent.action == "set_roles")
    assert events == 2
    # the service's rules hold: at least one role, an admin keeps their own 管理员, a known role
    last = post(browser, f"/console/people/staff/{teacher.id}/roles/revoke", {"role": "teacher"}, token)
    assert last.status_code == 422 and "至少保留一个角色" in last.get_data(as_text=True)
    me = _staff("A0001")
    own = post(browser, f"/console/people/staff/{me.id}/roles/revoke", {"role": "admin"}, token)
    assert own.status_code == 422 and "不能取消自己的管理员角色" in own.get_data(as_text=True)
    unknown = post(browser, f"/console/people/staff/{teacher.id}/roles/grant", {"role": "parent"}, token)
    assert unknown.status_code == 422
    gone = post(browser, "/console/people/staff/999999/roles/grant", {"role": "worker"}, token)
    assert gone.status_code == 404 and "未找到该教职工" in gone.get_data(as_text=True)
    assert _staff("T0001").roles == ["teacher"] and sorted(_staff("A0001").roles) == ["admin", "teacher"]


# --- 场所 -------------------------------------------------------------------------------------------------


def test_the_places_tree_goes_down_to_the_rooms(browser, signed_in):
    signed_in("dispatcher")
    page = browser.get("/console/places").get_data(as_text=True)
    assert "东校区" in page and "西校区" in page and "教学楼A" not in page
    campus = _place_id("E")
    page = browser.get(f"/console/places?parent_id={campus}").get_data(as_text=True)
    building = _place_id("E-TA")
    assert "教学楼A" in page and f"/console/places/{building}/codes" in page
    page = browser.get(f"/console/places?parent_id={building}").get_data(as_text=True)
    assert 'id="places-path"' in page and "东校区" in page and "4F" in page
    assert f'id="print-codes-{building}"' in page
    page = browser.get(f"/console/places?parent_id={_place_id('E-TA-2F')}").get_data(as_text=True)
    assert "201" in page and "206" in page and "class=\"room-code\"" in page
    assert browser.get("/console/places?parent_id=999999").status_code == 404


def test_a_buildings_codes_print_three_by_four_on_a4(browser, signed_in, sim):
    signed_in("admin")
    building = _place_id("E-TA")  # 4 floors × 6 rooms
    page = browser.get(f"/console/places/{building}/codes").get_data(as_text=True)
    assert "@media print" in page and "size: A4" in page and "page-break-after: always" in page
    assert "grid-template-columns: repeat(3, 1fr)" in page and "grid-template-rows: repeat(4, 1fr)" in page
    sheets = re.findall(r'<section class="sheet" id="sheet-\d+">(.*?)</section>', page, re.S)
    assert [s.count('<figure class="code"') for s in sheets] == [12, 12]
    names = re.findall(r'<figcaption class="name">([^<]+)</figcaption>', page)
    assert names[:7] == ["101", "102", "103", "104", "105", "106", "201"] and len(names) == 24
    room = _place_id("E-TA-101")
    assert f'src="/console/places/{room}/code"' in page
    image = browser.get(f"/console/places/{room}/code")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data[:4] == b"\x89PNG"
    assert image.headers["X-Code-Source"] in ("wechat", "qr")
    not_building = browser.get(f"/console/places/{room}/codes")
    assert not_building.status_code == 422 and "请选择一栋楼" in not_building.get_data(as_text=True)
    assert browser.get("/console/places/999999/codes").status_code == 404
