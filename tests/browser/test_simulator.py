"""The simulator page in headless Chromium, as a newcomer uses it: pick a member, check in, take a quiz,
watch a voice push reach the retirees, move the demo clock and see the scheduled pushes arrive."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
YOUNG_MEMBER = "zhangwei"        # 张伟, 大坝巡查班组, cohorts 青年 and 工程运维
RETIREE = "kongdefu"             # 孔德福, retired from 工程管理科


def test_picker_groups_the_roster_by_department_and_team_with_cohorts(simulator):
    page = simulator.page
    engineering = page.locator("details.department", has=page.locator("summary", has_text="工程管理科"))
    expect(engineering.locator(".team", has_text="大坝巡查班组")).to_be_visible()
    member = page.locator(f'.member[data-userid="{YOUNG_MEMBER}"]')
    expect(member).to_contain_text("张伟")
    expect(member.locator(".tag", has_text="青年")).to_be_visible()
    expect(page.locator(f'.member[data-userid="{RETIREE}"] .tag', has_text="退休")).to_be_visible()
    expect(page.locator('.member[data-userid="admin"] .tag.role')).to_have_text("管理员")


@pytest.mark.parametrize("channel", ["robot", "aibot", "longconn"])
def test_member_checks_in_in_the_group(simulator, channel):
    simulator.pick(YOUNG_MEMBER)
    simulator.page.select_option("#group-channel", channel)
    reply = simulator.say("group", "打卡", expect_reply=re.compile("打卡成功|今天已经打过卡"))
    assert "张伟" in reply
    expect(simulator.page.locator("#group-log .message.mine").last).to_have_text(re.compile("@思政助手 打卡"))


def test_member_talks_one_to_one_over_the_long_connection(simulator):
    simulator.pick(YOUNG_MEMBER)
    simulator.page.select_option("#dm-channel", "longconn")
    reply = simulator.say("dm", "我的", expect_reply="张伟")
    assert "青年" in reply


def test_member_starts_a_quiz_and_answers(simulator):
    simulator.pick(YOUNG_MEMBER)
    question = simulator.say("dm", "答题", expect_reply="第 1/")
    answer = "对" if "「对」或「错」" in question else "A"
    after = simulator.say("dm", answer, expect_reply=re.compile("回答正确|回答错误"))
    assert "第 2/" in after


def test_voice_push_reaches_a_retiree_after_an_admin_pushes_to_retirees(simulator):
    page = simulator.page
    simulator.pick("admin")
    simulator.say("dm", "推送 退休 duty-rules", expect_reply="已创建推送")
    # the retiree is not selected: his unread badge counts what arrives, then his chat shows it
    expect(page.locator(f'.member[data-userid="{RETIREE}"] .badge')).to_have_text(re.compile(r"[1-9]"), timeout=90_000)
    simulator.pick(RETIREE)
    voice = page.locator("#dm-log .message.push.kind-voice audio").first
    expect(voice).to_be_attached(timeout=30_000)
    duration = page.evaluate("""src => new Promise((resolve, reject) => {
        const audio = new Audio(src);
        audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
        audio.addEventListener("error", () => reject(new Error("cannot play " + src)));
    })""", voice.get_attribute("src"))
    assert 1 < duration <= 60          # a real WeCom voice clip, decoded from AMR by the server
    expect(page.locator("#dm-log .message.push").last).to_contain_text("已读")


def test_an_admin_pushes_a_news_card_into_the_group(simulator):
    page = simulator.page
    simulator.pick("admin")
    page.select_option("#group-channel", "aibot")
    simulator.say("group", "推送 本群 duty-rules", expect_reply="已创建推送")
    card = page.locator("#group-log .message.push.kind-news a.news").first
    expect(card).to_contain_text("汛期值班规矩", timeout=30_000)
    assert card.get_attribute("href").startswith("https://")


def test_advancing_the_clock_fires_the_days_scheduled_pushes(simulator, stack):
    page = simulator.page
    simulator.pick(YOUNG_MEMBER)
    start = page.locator("#clock-label").inner_text()
    pushes = page.locator("#dm-log .message.push")
    before = pushes.count()
    # the young cohort's push runs at 12:30 on workdays; a weekend or holiday may come first
    for _ in range(5):
        page.click('[data-advance="1440"]')
        expect(page.locator('[data-advance="1440"]')).to_be_enabled(timeout=120_000)
        if pushes.count() > before:
            break
    assert page.locator("#clock-label").inner_text() != start
    assert pushes.count() > before
    clock = requests.get(f"{stack.base}/simulator/api/clock", timeout=5).json()
    assert clock["offset_minutes"] >= 1440 and clock["busy"] == 0
