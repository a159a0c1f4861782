"""推送, 预约, 取消推送, 推送记录 through the real encrypted callback, sending to the stand-in over HTTP."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot import db
from bot.models.pushes import ItemReceipt, MemberPreference, Push
from bot.tasks import get_jobs
from handlers import ENABLED_BY_DEFAULT
from jobs.pushes import fan_out
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import app_on_standin, control, messages, stats

MODULES = tuple(dict.fromkeys((*ENABLED_BY_DEFAULT, "pushes")))


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock, MODULES) as app:
        yield app


@pytest.fixture
def staff(app):
    """A young patroller (青年 → text), a dispatcher (调度管理 → news card), a near-retiree (临退休 → voice)
    and a retiree (退休: only in cohort pushes)."""
    session = db.get_session()
    return {
        "young": member(session, "u_young", name="小王", birth_year=1998),
        "office": member(session, "u_office", name="李调度", department="办公室", team=None,
                         post="调度员", post_category="调度管理", birth_year=1982),
        "senior": member(session, "u_senior", name="老赵", birth_year=1968),
        "retired": member(session, "u_retired", name="周师傅", birth_year=1950, status="退休"),
    }


def say(platform, text, user="admin01"):
    return platform.say(text, user=user, chattype="single", channel="app").text


def sent_to(standin_url, userid):
    return [m for m in messages(standin_url, recipient=userid) if not m["dropped"]]


def kinds(standin_url, userid):
    return [m["msgtype"] for m in sent_to(standin_url, userid)]


def pushes():
    session = db.get_session()
    session.expire_all()
    return list(session.scalars(select(Push).order_by(Push.id)))


def test_push_to_everyone_lands_once_per_member_in_each_cohorts_form(app, platform, staff, standin_url):
    reply = say(platform, "推送 全体 duty-rules")
    [row] = pushes()
    assert f"推送号 {row.id}" in reply and "共 4 人" in reply
    assert "文字 1 人" in reply and "图文卡片 1 人" in reply and "语音 2 人" in reply
    assert row.status == "sent" and row.item_ref == "push_flood_duty_stories/duty-rules"
    assert kinds(standin_url, "u_young")[0] == "markdown"
    assert kinds(standin_url, "u_office")[0] == "news"
    assert kinds(standin_url, "u_senior")[0] == "voice"
    assert kinds(standin_url, "u_retired")[0] == "voice"        # 全体 includes retirees
    for userid in ("u_young", "u_office", "u_senior"):          # each message of the push once
        bodies = [json.dumps(m["body"], sort_keys=True) for m in sent_to(standin_url, userid)]
        assert len(bodies) == len(set(bodies)) and set(kinds(standin_url, userid)[1:]) <= {"text", "markdown"}
    receipts = db.get_session().scalars(select(ItemReceipt)).all()
    assert {(r.userid, r.form) for r in receipts} == {("u_young", "text"), ("u_office", "news"), ("u_senior", "voice"),
                                                      ("u_retired", "voice")}

    before = len(messages(standin_url))
    fan_out(push_id=row.id)                                 # a second run (retry, resumed worker) sends nothing
    assert len(messages(standin_url)) == before


def test_a_second_push_of_the_same_voice_clip_does_not_upload_again(app, platform, staff, standin_url):
    say(platform, "推送 临退休 duty-rules")
    uploads = stats(standin_url)["calls"].get("media/upload", 0)
    assert uploads >= 1
    say(platform, "推送 临退休 duty-rules")
    assert len(pushes()) == 2
    assert kinds(standin_url, "u_senior").count("voice") == 2 * uploads
    assert stats(standin_url)["calls"]["media/upload"] == uploads


def test_a_pack_means_its_first_item_the_audience_has_not_all_received(app, platform, staff, standin_url):
    first = say(platform, "推送 退休 push_unit_history")
    second = say(platform, "推送 退休 所史回顾·水库边的岁月")
    assert "《建库的那些年》" in first and "「退休」人群，共 1 人" in first and "语音 1 人" in first
    assert "《第一代守坝人》" in second
    assert [p.item_ref for p in pushes()] == ["push_unit_history/history-building",
                                              "push_unit_history/history-first-keepers"]
    assert sent_to(standin_url, "u_retired")[0]["msgtype"] == "voice"


def test_a_department_push_reaches_only_that_department(app, platform, staff, standin_url):
    reply = say(platform, "推送 办公室 policy-water-law-ownership")
    assert "「办公室」，共 1 人" in reply
    assert {m["recipient"] for m in messages(standin_url)} == {"u_office"}


def test_muted_members_get_nothing_and_the_reply_says_so(app, platform, staff, standin_url, clock):
    session = db.get_session()
    session.add(MemberPreference(userid="u_young", muted=True, form=None, updated_at=clock()))
    session.commit()
    reply = say(platform, "推送 全体 duty-rules")
    assert "共 3 人" in reply and "另有 1 人设了免打扰" in reply
    assert sent_to(standin_url, "u_young") == []


def test_a_preferred_form_wins_when_the_item_has_it(app, platform, staff, standin_url, clock):
    session = db.get_session()
    session.add(MemberPreference(userid="u_office", muted=False, form="voice", updated_at=clock()))
    session.commit()
    say(platform, "推送 调度管理 duty-rules")
    assert sent_to(standin_url, "u_office")[0]["msgtype"] == "voice"


@pytest.mark.parametrize("text, says", [
    ("推送 外星人 duty-rules", "没有找到人群或部门「外星人」"),
    ("推送 全体 天文地理", "没有找到标题含「天文地理」的条目或内容包"),
    ("推送 全体 push_unit_history/nope", "没有找到条目「push_unit_history/nope」"),
    ("推送 全体 情景案例", "请用「内容包/条目」写明要推送哪一条"),
    ("推送 全体 duty-rules 今天 8:00", "已经过去了"),
    ("推送 全体 duty-rules 2026-02-30 8:00", "不是一个有效的日期"),
    ("推送 全体", "请写明推送给谁、推送什么"),
])
def test_bad_input_is_explained_and_pushes_nothing(app, platform, staff, standin_url, text, says):
    reply = say(platform, text)
    assert says in reply, reply
    assert pushes() == [] and messages(standin_url) == []


def test_members_may_not_push(app, platform, staff, standin_url):
    reply = say(platform, "推送 全体 duty-rules", user="u_young")
    assert "管理员" in reply and pushes() == []


def test_a_timed_push_is_scheduled_listed_and_can_be_cancelled(app, platform, staff, standin_url, clock):
    reply = say(platform, "推送 青年 youth-mentor 明天 9:00")
    [row] = pushes()
    assert row.status == "scheduled" and "将于 2026-11-26 09:00 发送" in reply and f"取消推送 {row.id}" in reply
    registry = ScheduledJobRegistry(queue=get_jobs().queue())
    job_id = f"push-fanout-{row.id}"
    assert registry.get_job_ids() == [job_id]
    assert registry.get_scheduled_time(job_id) == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    assert messages(standin_url) == []

    listed = say(platform, "预约")
    assert f"{row.id}. 11-26 09:00 《师徒结对：把\"手感\"传下去》→ 「青年」人群" in listed

    assert f"已取消推送 {row.id}" in say(platform, f"取消推送 {row.id}")
    assert pushes()[0].status == "cancelled" and "目前没有预约推送" in say(platform, "预约")
    clock.set(clock() + timedelta(days=1))
    assert fan_out(push_id=row.id)["cancelled"]             # the job fires and does nothing
    assert messages(standin_url) == []
    assert "已经取消过了" in say(platform, f"取消推送 {row.id}")


def test_a_timed_push_goes_out_when_its_job_runs(app, platform, staff, standin_url, clock):
    say(platform, "推送 青年 youth-mentor 周五 17:30")
    [row] = pushes()
    assert "《师徒结对" in say(platform, "预约") and "11-27 17:30" in say(platform, "预约")   # Wed → this Fri
    clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI))
    fan_out(push_id=row.id)
    assert kinds(standin_url, "u_young") == ["markdown"]
    assert "已经开始发送，不能取消了" in say(platform, f"取消推送 {row.id}")


@pytest.mark.parametrize("text", ["取消推送 999", "取消推送 abc"])
def test_cancelling_an_unknown_push_is_explained(app, platform, staff, text):
    reply = say(platform, text)
    assert "没有推送号为 999" in reply or "推送号应是数字" in reply


def test_history_counts_delivered_failed_and_pending_from_the_ledger(app, platform, staff, standin_url):
    say(platform, "推送 全体 policy-water-law-ownership")
    control(standin_url, {"fail_next": [{"path": "message/send", "errcode": 48002}]})
    say(platform, "推送 青年 youth-mentor")
    say(platform, "推送 全体 duty-rules 明天 9:00")
    report = say(platform, "推送记录")
    lines = report.splitlines()
    assert lines[0] == "最近 3 条推送："
    assert lines[1].startswith("3. ") and lines[1].endswith("：预约中")
    assert lines[2].startswith("2. ") and lines[2].endswith("：送达 0 人，失败 1 人，待发 0 人")
    assert lines[3].startswith("1. ") and lines[3].endswith("：送达 4 人，失败 0 人，待发 0 人")


def test_a_fan_out_whose_early_token_fetch_fails_still_delivers_once(app, staff, standin_url, clock, caplog):
    session = db.get_session()
    push = Push(item_ref="push_flood_duty_stories/duty-rules", pack_version=1, audience="全体", origin="admin",
                status="sending", scheduled_for=clock(), created_by="admin01", created_at=clock(), detail="")
    session.add(push)
    session.commit()
    control(standin_url, {"fail_next": [{"path": "gettoken", "errcode": -1}]})     # WeCom busy, once
    with caplog.at_level(logging.WARNING, logger="bot.wecom.client"):
        assert fan_out(push_id=push.id)["queued"] == 4
    assert "fetching the access token ahead of the calls failed" in caplog.text
    assert stats(standin_url)["calls"]["gettoken"] == 2          # the sends fetched it again
    assert [kinds(standin_url, userid)[0] for userid in ("u_young", "u_office", "u_senior", "u_retired")] == [
        "markdown", "news", "voice", "voice"]
    for userid in ("u_young", "u_office", "u_senior", "u_retired"):         # each message of the push once
        bodies = [json.dumps(m["body"], sort_keys=True) for m in sent_to(standin_url, userid)]
        assert len(bodies) == len(set(bodies))


# what each member of the demo unit should get, worked out here from roster.csv and the documented
# precedence (退休 > 临退休 > 青年 > 调度管理 > 工程运维 > others), not by the bot's rule engine
FIRST_MSGTYPE = {"text": "markdown", "news": "news", "voice": "voice", "video": "text"}


def expected_form(row: dict, item, year: int) -> str:
    age = year - int(row["出生年份"])
    if row["状态"] == "退休" or age >= 55:
        preferred = ["voice", "text", "news", "video"]
    elif age <= 35:
        preferred = ["text", "video", "news", "image"]
    elif row["岗位类别"] == "调度管理":
        preferred = ["news", "text", "video"]
    elif row["岗位类别"] == "工程运维":
        preferred = ["video", "text", "news"]
    else:
        preferred = ["text", "news", "video"]
    return next(form for form in preferred if getattr(item, form) is not None)


def test_a_push_to_the_whole_demo_unit_lands_once_per_member_in_his_form(app, platform, standin_url, clock):
    import csv

    from bot.demo import DEMO_DIR, load_demo_unit
    from bot.models.messaging import Delivery
    from jobs.pushes import find_pack_item

    load_demo_unit(db.get_session(), now=clock())
    roster = list(csv.DictReader((DEMO_DIR / "roster.csv").open(encoding="utf-8")))
    _, item = find_pack_item("push_flood_duty_stories/duty-rules")
    reply = say(platform, "推送 全体 duty-rules", user="admin")
    assert f"共 {len(roster)} 人" in reply
    [row] = pushes()
    ledger = db.get_session().scalars(select(Delivery).where(Delivery.push_id.like(row.ledger_pattern))).all()
    assert sorted(d.recipient for d in ledger) == sorted(f"user:{r['工号']}" for r in roster)    # once each
    assert {d.status for d in ledger} == {"sent"}
    forms = set()
    for person in roster:
        form = expected_form(person, item, clock().year)
        forms.add(form)
        got = sent_to(standin_url, person["工号"])
        assert got and got[0]["msgtype"] == FIRST_MSGTYPE[form], (person["姓名"], form, got[:1])
        bodies = [json.dumps(m["body"], sort_keys=True) for m in got]
        assert len(bodies) == len(set(bodies))                                   # no message twice
        assert "评价" in json.dumps(got[-1]["body"], ensure_ascii=False)          # the push ends inviting a rating
    assert {"voice", "news", "text"} <= forms                                    # the unit really is mixed


def test_pushing_cancelling_and_a_refused_push_are_audited(app, platform, staff, standin_url):
    from bot.models import AuditEntry

    say(platform, "推送 青年 youth-mentor 明天 9:00")
    [row] = pushes()
    say(platform, f"取消推送 {row.id}")
    say(platform, "推送 全体 duty-rules", user="u_young")
    entries = db.get_session().scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.command, e.arguments, e.result) for e in entries] == [
        ("admin01", "推送", "青年 youth-mentor 明天 9:00", "ok"), ("admin01", "取消推送", str(row.id), "ok"),
        ("u_young", "推送", "全体 duty-rules", "denied")]


def test_a_push_to_others_reaches_only_the_members_in_no_cohort(app, platform, staff, standin_url):
    member(db.get_session(), "u_clerk", name="任文书", department="办公室", team=None, post="文书",
           post_category="综合管理", birth_year=1980)
    reply = say(platform, "推送 其他 duty-rules")
    assert "不属于任何人群的在职职工，共 1 人" in reply, reply
    assert {m["recipient"] for m in messages(standin_url)} == {"u_clerk"}
    assert kinds(standin_url, "u_clerk")[0] == "markdown"          # the policy's default form: text
