"""统计图 and 导出 through the real callback, the report job and the outbox, sent to the WeCom stand-in.

The stand-in checks what it is sent as WeCom would (bot/standin/checks.py, media.py): an app image
or file must be a media_id it issued for that type (JPG/PNG ≤10 MB, files ≤20 MB), a robot image
travels inline as base64 with its md5 (JPG/PNG ≤2 MB). Only accepted messages are recorded.
"""
from __future__ import annotations

import base64
import io
from urllib.parse import quote

import pytest
import requests
from openpyxl import load_workbook
from rq import SimpleWorker

from bot.redis_store import get_redis
from bot.standin import checks, media
from bot.tasks import DEFAULT, OUTBOX, get_jobs
from jobs.reports import send_chart, send_workbook
from tests.platform.messages import DEMO_CHAT
from tests.standin_http import messages

PNG = b"\x89PNG\r\n\x1a\n"


def say(platform, text, user, **where):
    where = where or {"channel": "app", "chattype": "single"}
    return platform.say(text, user=user, **where).text


def sent_to(standin_url, userid):
    return [m for m in messages(standin_url, recipient=userid) if not m["dropped"]]


def media_of(standin_url, message) -> tuple[bytes, str]:
    answer = requests.get(f"{standin_url}/media/{message['body'][message['msgtype']]['media_id']}", timeout=5)
    assert answer.status_code == 200
    return answer.content, answer.headers["Content-Disposition"]


@pytest.fixture(autouse=True)
def no_unexpected_calls(standin_url):
    yield
    assert requests.get(f"{standin_url}/violations", timeout=5).json() == []


def test_an_admin_gets_the_chart_as_an_image_message(platform, office, standin_url):
    reply = say(platform, "统计图", "admin01")
    assert reply == "好的，正在生成水库管理所 2026 年 11 月的统计图，稍后发给您。"
    caption, image = sent_to(standin_url, "admin01")
    assert caption["msgtype"] == "text" and "【统计图】水库管理所 · 2026 年 11 月（统计至 11-25）" in \
        caption["body"]["text"]["content"]
    assert image["via"] == "app" and image["msgtype"] == "image"
    data, _ = media_of(standin_url, image)
    assert data.startswith(PNG) and len(data) <= media.MAX_BYTES["image"]
    assert media.check_upload("image", data) is None       # what the stand-in checked on upload


def test_a_leader_in_a_group_gets_the_chart_posted_by_the_groups_robot(platform, office, standin_url):
    reply = say(platform, "统计图 上月", "head1", channel="robot", chattype="group", chat=DEMO_CHAT)
    assert reply == "好的，正在生成工程管理科 2026 年 10 月的统计图，稍后发到本群。"
    posts = messages(standin_url, via="webhook")
    assert [(m["chat"], m["msgtype"]) for m in posts] == [(DEMO_CHAT, "text"), (DEMO_CHAT, "image")]
    assert "工程管理科 · 2026 年 10 月" in posts[0]["body"]["text"]["content"]
    data = base64.b64decode(posts[1]["body"]["image"]["base64"])
    assert data.startswith(PNG) and len(data) <= checks.WEBHOOK_IMAGE_BYTES
    assert checks.check_webhook_image(posts[1]["body"]["image"]) is None
    assert sent_to(standin_url, "head1") == []


def test_a_group_without_a_robot_gets_the_chart_privately(platform, office, standin_url):
    reply = say(platform, "统计图", "head1", channel="robot", chattype="group", chat="wrkNoRobotChat")
    assert "本群没有配置群机器人，稍后私信发给您" in reply
    assert [m["msgtype"] for m in sent_to(standin_url, "head1")] == ["text", "image"]


def test_export_sends_the_workbook_as_a_file_message(platform, office, standin_url):
    reply = say(platform, "导出 2026-11", "head1")
    assert reply == "好的，正在生成工程管理科 2026 年 11 月的 Excel 报表，稍后私信发给您。"
    caption, file = sent_to(standin_url, "head1")
    assert "【报表】工程管理科 · 2026 年 11 月" in caption["body"]["text"]["content"]
    assert file["msgtype"] == "file"
    data, disposition = media_of(standin_url, file)
    assert len(data) <= media.MAX_BYTES["file"]
    assert "filename*=UTF-8''" + quote("学习统计-2026年11月.xlsx") in disposition     # the name people see
    assert media.check_upload("file", data) is None
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "工程管理科", "每日打卡", "知晓率"]
    names = {book["工程管理科"].cell(r, 2).value for r in range(5, 9)}
    assert names == {"科长甲", "巡查一", "巡查二", "抢险一"}


def test_export_asked_in_a_group_still_goes_privately(platform, office, standin_url):
    reply = say(platform, "导出", "admin01", channel="robot", chattype="group", chat=DEMO_CHAT)
    assert "只私信发给您，不发到群里" in reply
    assert messages(standin_url, via="webhook") == []
    assert [m["msgtype"] for m in sent_to(standin_url, "admin01")] == ["text", "file"]


def test_a_team_leader_exports_only_his_team(platform, office, standin_url):
    say(platform, "导出", "patrol1")
    data, _ = media_of(standin_url, sent_to(standin_url, "patrol1")[-1])
    sheet = load_workbook(io.BytesIO(data))["工程管理科"]
    assert {sheet.cell(r, 3).value for r in (5, 6)} == {"patrol1", "patrol2"}
    assert sheet.cell(7, 2).value == "合计"


@pytest.mark.parametrize("text", ["统计图", "导出", "统计图 上月"])
def test_members_are_refused_politely_and_nothing_is_sent(platform, office, standin_url, text):
    assert "需要负责人权限" in say(platform, text, "patrol2")
    assert messages(standin_url) == []


@pytest.mark.parametrize("text, user, answer", [
    ("统计图 13月", "admin01", "看不懂月份"),
    ("统计图 2027-01", "admin01", "还没有开始"),
    ("导出 2026-12", "admin01", "还没有开始"),
    ("统计图 本月 不存在科", "admin01", "没有找到名为「不存在科」的部门或班组"),
    ("统计图 水情调度科", "head1", "不在您负责的范围内"),
    ("统计图 上月 防汛抢险班组", "patrol1", "不在您负责的范围内"),
])
def test_bad_requests_get_a_clear_answer_and_send_nothing(platform, office, standin_url, text, user, answer):
    assert answer in say(platform, text, user)
    assert messages(standin_url) == []


def test_full_width_text_and_a_department_alone(platform, office, standin_url):
    reply = say(platform, "统计图　防汛抢险班组", "head1")
    assert reply == "好的，正在生成工程管理科 / 防汛抢险班组 2026 年 11 月的统计图，稍后发给您。"
    assert [m["msgtype"] for m in sent_to(standin_url, "head1")] == ["text", "image"]


def test_slow_reports_tell_the_person_how_far_along_they_are(app, platform, office, standin_url):
    app.config["REPORT_PROGRESS_AFTER_SECONDS"] = 0     # every report counts as slow
    say(platform, "统计图", "admin01")
    sent = sent_to(standin_url, "admin01")
    texts = [m["body"]["text"]["content"] for m in sent if m["msgtype"] == "text"]
    assert texts[:4] == ["正在生成… 20%", "正在生成… 40%", "正在生成… 60%", "正在生成… 80%"]
    assert sent[-1]["msgtype"] == "image"


def test_quick_reports_send_no_progress(platform, office, standin_url):
    say(platform, "导出", "admin01")
    texts = [m["body"]["text"]["content"] for m in sent_to(standin_url, "admin01") if m["msgtype"] == "text"]
    assert not any("正在生成…" in t for t in texts)


def test_asking_twice_in_a_minute_makes_one_report(platform, office, standin_url):
    say(platform, "统计图", "admin01")
    assert "已经安排生成了" in say(platform, "统计图", "admin01")
    assert [m["msgtype"] for m in sent_to(standin_url, "admin01")] == ["text", "image"]


def test_the_report_is_made_by_the_worker_not_in_the_callback(app, platform, office, standin_url):
    app.config["RQ_IS_ASYNC"] = True            # queues are created on first use, after this
    assert "正在生成" in say(platform, "导出", "admin01")
    assert messages(standin_url) == []          # the callback only queued the job
    jobs = get_jobs(app)
    SimpleWorker([jobs.queue(DEFAULT)], connection=get_redis(app)).work(burst=True)
    SimpleWorker([jobs.queue(OUTBOX)], connection=get_redis(app)).work(burst=True)
    assert [m["msgtype"] for m in sent_to(standin_url, "admin01")] == ["text", "file"]


def test_the_job_checks_the_scope_again_when_it_runs(office, standin_url):
    # a leader's grant revoked between the request and the job: he is told, and gets no figures
    assert send_chart(userid="patrol2", month="2026-11", department=None, group_chat=None,
                      requested_at="2026-11-25T09:30:00+08:00") == 0
    [refusal] = sent_to(standin_url, "patrol2")
    assert "没有查看报表的权限" in refusal["body"]["text"]["content"]
    assert send_workbook(userid="head1", month="2026-11", department="水情调度科",
                         requested_at="2026-11-25T09:30:00+08:00") == 0
    assert "不在您负责的范围内" in sent_to(standin_url, "head1")[0]["body"]["text"]["content"]
