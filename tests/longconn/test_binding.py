"""A sender id that is not on the roster is asked once to bind; an admin confirms; the binding is used."""
from __future__ import annotations

from rq import SimpleWorker

from bot import db
from bot.models.bindings import SenderBinding
from bot.redis_store import get_redis
from bot.tasks import OUTBOX, get_jobs
from handlers import binding as texts
from tests.factories import member

OPAQUE = "woAbC9x7Opaque01"       # what some tenants send as from.userid


def say(wecom, userid: str, text: str) -> str:
    replies = wecom.wait_replies(wecom.say(userid, text))
    assert replies, f"no answer to {text!r}"
    return replies[-1].text


def stored(external_id: str = OPAQUE) -> SenderBinding | None:
    session = db.get_session()
    session.expire_all()
    return session.get(SenderBinding, external_id)


def test_an_unknown_sender_is_asked_once_then_reminded(app, bot, wecom):
    assert say(wecom, OPAQUE, "帮助") == texts.ASK
    assert say(wecom, OPAQUE, "打卡") == texts.REMIND
    assert stored().status == "asked"


def test_binding_request_confirmation_and_use(app, bot, wecom):
    member(db.get_session(), "zhangwei", name="张伟")
    assert "已收到您绑定工号 zhangwei（张伟）的申请" in say(wecom, OPAQUE, "绑定　ｚｈａｎｇｗｅｉ")  # full-width
    assert say(wecom, OPAQUE, "帮助") == texts.WAITING.format(userid="zhangwei")
    assert "帐号 woAbC9x7Opaque01 → 张伟（zhangwei）" in say(wecom, "admin01", "绑定申请")
    assert say(wecom, "admin01", "确认绑定 zhangwei") == texts.CONFIRMED.format(
        account=OPAQUE, name="张伟", userid="zhangwei")
    assert stored().status == "confirmed" and stored().decided_by == "admin01"
    assert "思政助手可以帮您" in say(wecom, OPAQUE, "帮助")         # now the member zhangwei
    SimpleWorker([get_jobs(app).queue(OUTBOX)], connection=get_redis(app)).work(burst=True)
    told = wecom.wait_sent(1, chatid=OPAQUE)
    assert [r.text for r in told] == [texts.TOLD_CONFIRMED.format(name="张伟", userid="zhangwei")]


def test_a_wrong_number_changes_nothing(app, bot, wecom):
    assert say(wecom, OPAQUE, "绑定 nobody9") == texts.NO_SUCH_MEMBER.format(userid="nobody9")
    assert stored() is None
    assert say(wecom, OPAQUE, "绑定") .startswith("缺少「工号」")


def test_only_admins_confirm_and_a_member_needs_no_binding(app, bot, wecom):
    member(db.get_session(), "u001")
    member(db.get_session(), "zhangwei", name="张伟")
    say(wecom, OPAQUE, "绑定 zhangwei")
    assert "管理员" in say(wecom, "u001", "确认绑定 zhangwei")
    assert stored().status == "pending"
    assert say(wecom, "u001", "绑定 u001") == texts.NOT_NEEDED


def test_a_member_already_bound_cannot_be_claimed_by_another_account(app, bot, wecom):
    member(db.get_session(), "zhangwei", name="张伟")
    say(wecom, OPAQUE, "绑定 zhangwei")
    say(wecom, "admin01", "确认绑定 zhangwei")
    assert say(wecom, "woOther0002", "绑定 zhangwei") == texts.TAKEN.format(userid="zhangwei")
    assert stored("woOther0002") is None
