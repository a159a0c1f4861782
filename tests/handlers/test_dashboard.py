"""看板 and the dashboard behind it: a one-time link valid 10 minutes, sent privately to leaders and admins,
and pages that show each person only the units they may see (the clock is 2026-11-25 09:30)."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot import db, org, roles
from tests.factories import member

PUBLIC_URL = "https://szzs.example.org"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/dashboard/signin/([A-Za-z0-9_-]+))")


@pytest.fixture
def office(app, clock):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    session = db.get_session()
    member(session, "patrol1", name="巡查一", department="工程管理科", team="大坝巡查班组")
    member(session, "flood1", name="抢险一", department="工程管理科", team="防汛抢险班组")
    member(session, "head1", name="科长甲", department="工程管理科", team=None, post="科长")
    member(session, "water1", name="水情一", department="水情调度科", team="水情监测班组", post="水情监测岗")
    member(session, "admin01", name="管理员", department="后勤保障科", team=None, post="综合文秘岗")
    team = org.find_unit_by_name(session, "大坝巡查班组")[0]
    dept = org.find_unit_by_name(session, "工程管理科")[0]
    roles.grant(session, "patrol1", roles.LEADER, org_unit_id=team.id, by="test", at=clock())
    roles.grant(session, "head1", roles.LEADER, org_unit_id=dept.id, by="test", at=clock())
    session.commit()


def link_for(platform, user: str) -> str:
    reply = platform.say("看板", channel="app", chattype="single", user=user).text
    assert "10 分钟内有效" in reply and "只能使用一次" in reply
    return LINK.search(reply).group(1)


def signed_in(app, platform, user: str):
    client = app.test_client()
    answer = client.post(link_for(platform, user))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/dashboard/")
    return client


def test_members_get_no_link_and_groups_never_see_one(app, platform, office):
    assert "/dashboard/" not in platform.say("看板", channel="app", chattype="single", user="stranger").text
    assert "需要负责人权限" in platform.say("看板", channel="app", chattype="single", user="flood1").text
    in_group = platform.say("＠思政助手 看板", channel="robot", chattype="group", user="head1").text
    assert "私聊" in in_group and "/dashboard/" not in in_group


def test_no_link_until_the_public_address_is_configured(app, platform, office):
    del app.config["PUBLIC_URL"]
    reply = platform.say("看板", channel="app", chattype="single", user="head1").text
    assert "PUBLIC_URL" in reply and "/dashboard/" not in reply


def test_the_link_works_once(app, platform, office):
    path = link_for(platform, "patrol1")
    client = app.test_client()
    assert "进入看板" in client.get(path).text            # opening the link uses nothing up
    assert client.post(path).status_code == 302
    again = app.test_client().post(path)
    assert again.status_code == 403 and "已经用过或已过期" in again.text


def test_the_link_expires_after_ten_minutes(app, platform, office, clock):
    path = link_for(platform, "head1")
    clock.set(clock() + timedelta(minutes=10, seconds=1))
    assert app.test_client().post(path).status_code == 403


def test_a_team_leader_sees_his_team_and_nothing_else(app, platform, office):
    client = signed_in(app, platform, "patrol1")
    page = client.get("/dashboard/")
    assert page.status_code == 200 and "工程管理科 / 大坝巡查班组" in page.text
    assert page.text.count('id="chart-') == 3 and "防汛抢险班组" not in page.text
    refused = client.get("/dashboard/", query_string={"unit": "工程管理科"})
    assert refused.status_code == 400 and "不在您负责的范围内" in refused.text and "chart-" not in refused.text
    assert client.get("/dashboard/download/report.xlsx", query_string={"unit": "水情调度科"}).status_code == 400


def test_a_department_head_may_pick_a_team_of_his_department(app, platform, office):
    client = signed_in(app, platform, "head1")
    page = client.get("/dashboard/")
    assert 'value="工程管理科 / 防汛抢险班组"' in page.text and "水情调度科" not in page.text
    team = client.get("/dashboard/", query_string={"unit": "工程管理科 / 防汛抢险班组", "month": "2026-10"})
    assert team.status_code == 200 and 'id="title">工程管理科 / 防汛抢险班组 · 2026 年 10 月' in team.text


def test_an_admin_downloads_the_workbook_and_a_chart(app, platform, office):
    client = signed_in(app, platform, "admin01")
    assert 'value="水情调度科"' in client.get("/dashboard/").text
    workbook = client.get("/dashboard/download/report.xlsx", query_string={"month": "2026-11"})
    assert workbook.status_code == 200 and "2026-11.xlsx" in workbook.headers["Content-Disposition"]
    assert {"工程管理科", "水情调度科"} <= set(load_workbook(io.BytesIO(workbook.data)).sheetnames)
    chart = client.get("/dashboard/download/checkin_rate.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert client.get("/dashboard/download/secrets.txt").status_code == 404


def test_pages_need_a_session_and_a_role_that_still_holds(app, platform, office):
    assert app.test_client().get("/dashboard/").status_code == 401
    client = signed_in(app, platform, "patrol1")
    roles.revoke(db.get_session(), "patrol1", roles.LEADER)
    db.get_session().commit()
    assert client.get("/dashboard/").status_code == 403
    client.post("/dashboard/signout")
    assert client.get("/dashboard/").status_code == 401


def test_a_future_month_is_refused_politely(app, platform, office):
    client = signed_in(app, platform, "admin01")
    answer = client.get("/dashboard/", query_string={"month": "2027-01"})
    assert answer.status_code == 400 and "还没有开始" in answer.text
