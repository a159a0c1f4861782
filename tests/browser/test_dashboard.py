"""The dashboard in headless Chromium: the one-time link from 看板, the scope of a team leader, a
department head and an admin, the month and unit filters, and the PNG and Excel downloads.
看板 is asked for by the platform side of tests/platform (real encrypted callbacks), not the simulator."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
LINK = re.compile(r"http://127\.0\.0\.1:\d+/dashboard/signin/[A-Za-z0-9_-]+")
TEAM_LEADER, TEAM = "mayonggang", "工程管理科 / 大坝巡查班组"
DEPARTMENT_HEAD, DEPARTMENT = "sunlijun", "工程管理科"
OTHER_DEPARTMENT = "水情调度科"


def sign_in(page, stack, userid: str) -> str:
    """Ask for the link in the app's one-to-one chat, open it, press the button; returns the link."""
    reply = stack.platform().say("看板", channel="app", user=userid).text
    link = LINK.search(reply).group(0)
    page.goto(link)
    page.click("#enter")
    expect(page.locator("#scope")).to_contain_text(userid)
    return link


def unit_choices(page) -> list[str]:
    return page.locator("#unit option").evaluate_all("options => options.map(o => o.value).filter(Boolean)")


def expect_three_charts(page) -> None:
    for key in ("study_hours", "checkin_rate", "awareness"):
        image = page.locator(f"#chart-{key} img")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 100")


def test_team_leader_sees_his_team_only(page, stack):
    link = sign_in(page, stack, TEAM_LEADER)
    expect(page.locator("#scope")).to_contain_text(TEAM)
    assert unit_choices(page) == [TEAM]
    expect(page.locator("#title")).to_contain_text(TEAM)
    expect_three_charts(page)
    # a hand-made address does not widen the scope
    page.goto(page.url.split("?")[0] + f"?unit={OTHER_DEPARTMENT}")
    expect(page.locator("#notice")).to_contain_text("不在您负责的范围内")
    expect(page.locator("#chart-study_hours")).to_have_count(0)
    # the link worked once
    page.goto(link)
    page.click("#enter")
    expect(page.locator("#notice")).to_contain_text("已经用过或已过期")


def test_department_head_sees_his_department_and_its_teams(page, stack):
    sign_in(page, stack, DEPARTMENT_HEAD)
    choices = unit_choices(page)
    assert DEPARTMENT in choices and TEAM in choices
    assert not any(c.startswith(OTHER_DEPARTMENT) for c in choices)
    page.select_option("#unit", TEAM)             # the page reloads on change
    expect(page.locator("#title")).to_contain_text(TEAM)
    expect(page.locator("#unit")).to_have_value(TEAM)
    expect_three_charts(page)


def test_admin_sees_every_department_and_downloads_png_and_excel(page, stack):
    sign_in(page, stack, "admin")
    choices = unit_choices(page)
    assert {DEPARTMENT, OTHER_DEPARTMENT, "后勤保障科", "领导班子"} <= set(choices)
    month = page.locator("#month option").nth(1).get_attribute("value")      # last month
    page.select_option("#month", month)
    expect(page.locator("#month")).to_have_value(month)
    expect_three_charts(page)
    with page.expect_download() as png:
        page.click("#download-study_hours")
    assert png.value.suggested_filename.endswith(".png")
    assert Path(png.value.path()).read_bytes().startswith(b"\x89PNG")
    with page.expect_download() as xlsx:
        page.click("#download-xlsx")
    assert xlsx.value.suggested_filename.endswith(f"{month}.xlsx")
    book = load_workbook(io.BytesIO(Path(xlsx.value.path()).read_bytes()))
    assert {DEPARTMENT, OTHER_DEPARTMENT} <= set(book.sheetnames)


def test_members_get_no_link_and_the_page_needs_a_sign_in(page, stack):
    platform = stack.platform()
    assert "需要负责人权限" in platform.say("看板", channel="app", user="zhangwei").text
    in_group = platform.say("看板", channel="robot", user=DEPARTMENT_HEAD, chattype="group").text
    assert "请私聊我" in in_group and not LINK.search(in_group)      # never a sign-in link in a group
    assert requests.get(f"{stack.base}/dashboard/", timeout=10).status_code == 401
    page.goto(f"{stack.base}/dashboard/")
    expect(page.locator("#notice")).to_contain_text("发送「看板」")
