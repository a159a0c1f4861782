"""Multi-turn flows through the real callback path: state in Redis per chat and member, steps, 取消, races."""
from __future__ import annotations

import json

import pytest

from bot import create_app, db, flows
from bot.keys import FLOW
from handlers import ENABLED_BY_DEFAULT
from tests.conftest import TEST_CORP_ID, make_settings
from tests.factories import member

MODULES = (*ENABLED_BY_DEFAULT, "tests.flow_demo")


@pytest.fixture
def app(tmp_path, redis_client, clock):
    app = create_app(make_settings(tmp_path, HANDLER_MODULES=MODULES), redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)
        member(db.get_session(), "u001", name="张三")
        member(db.get_session(), "u002", name="李四")
        yield app


def say(platform, text, **kw):
    kw.setdefault("channel", "app")
    kw.setdefault("chattype", "single")
    return platform.say(text, **kw).text


def stored(redis_client, *, channel="app", chat="u001", user="u001"):
    raw = redis_client.get(FLOW.format(channel=channel, chat_id=chat, user_id=user))
    return json.loads(raw) if raw else None


def test_a_flow_walks_its_steps_and_ends(platform, redis_client):
    assert say(platform, "点餐") == "想吃什么？"
    assert stored(redis_client)["step"] == "dish"
    assert say(platform, "面条") == "要几份面条？"
    assert stored(redis_client)["data"] == {"dish": "面条"}
    assert say(platform, "两份") == "请回复数字，例如 2。"
    assert say(platform, "2") == "好的，面条 × 2。"
    assert stored(redis_client) is None
    assert "没太明白" in say(platform, "3")            # no conversation any more: routed as usual


def test_state_has_the_flows_ttl(platform, redis_client):
    say(platform, "点餐")
    ttl = redis_client.ttl(FLOW.format(channel="app", chat_id="u001", user_id="u001"))
    assert 590 <= ttl <= 600


def test_cancel_ends_any_flow_with_its_farewell(platform, redis_client):
    say(platform, "点餐")
    say(platform, "米饭")
    assert say(platform, "取消") == "已取消点餐（米饭）。"
    assert stored(redis_client) is None


def test_a_declined_text_is_routed_and_the_flow_waits(platform, redis_client):
    say(platform, "点餐")
    assert say(platform, "看菜") == "今天有：面条、米饭。"
    assert stored(redis_client)["step"] == "dish"
    assert say(platform, "米饭") == "要几份米饭？"


def test_two_chats_and_two_members_do_not_mix(platform, redis_client):
    say(platform, "点餐")                                              # u001 one-to-one
    say(platform, "点餐", channel="robot", chattype="group", user="u001")  # u001 in a group
    say(platform, "点餐", channel="robot", chattype="group", user="u002")  # u002 in the same group
    say(platform, "面条")
    say(platform, "米饭", channel="robot", chattype="group", user="u001")
    assert stored(redis_client)["data"] == {"dish": "面条"}
    group_chats = [k.decode() for k in redis_client.scan_iter(FLOW.format(channel="robot", chat_id="*", user_id="*"))]
    assert len(group_chats) == 2
    states = {k.rsplit(":", 1)[1]: json.loads(redis_client.get(k)) for k in group_chats}
    assert states["u001"]["data"] == {"dish": "米饭"} and states["u002"]["data"] == {}


def test_a_resent_callback_moves_the_flow_once(platform, redis_client):
    from tests.platform import messages

    say(platform, "点餐")
    plaintext = messages.app_text("面条", user="u001", corp_id=TEST_CORP_ID, msg_id=700001)
    first = platform.deliver("app", plaintext).text
    again = platform.deliver("app", plaintext).text
    assert first == again == "要几份面条？"
    assert stored(redis_client)["step"] == "count"


def test_a_lost_race_rolls_back_and_says_so(app, redis_client):
    """Two messages of one member read the same revision: the second save must fail."""
    key = FLOW.format(channel="app", chat_id="u001", user_id="u001")
    first = flows.Conversation(redis_client, key, {"order": _order_flow(app)})
    second = flows.Conversation(redis_client, key, {"order": _order_flow(app)})
    first.start(_order_flow(app), "dish")
    second.start(_order_flow(app), "dish")
    first.save()
    with pytest.raises(flows.StaleFlow):
        second.save()


def test_a_stale_message_changes_nothing_in_the_database(platform, app, redis_client, monkeypatch):
    from sqlalchemy import func, select

    from bot.models import CheckIn

    say(platform, "点餐")
    real_save = flows.save

    def racing_save(redis, key, state, *, read_rev, ttl_seconds):
        redis.set(key, json.dumps({"flow": "order", "step": "dish", "data": {}, "rev": read_rev + 5}))
        return real_save(redis, key, state, read_rev=read_rev, ttl_seconds=ttl_seconds)

    monkeypatch.setattr(flows, "save", racing_save)
    assert say(platform, "面条") == "上一条消息还在处理中，请稍等一下再发。"
    assert db.get_session().scalar(select(func.count()).select_from(CheckIn)) == 0


def test_unreadable_or_unknown_state_is_forgotten(platform, redis_client):
    key = FLOW.format(channel="app", chat_id="u001", user_id="u001")
    redis_client.set(key, json.dumps({"flow": "gone", "step": "x", "data": {}, "rev": 0}))
    assert "没太明白" in say(platform, "面条")
    assert redis_client.get(key) is None
    redis_client.set(key, b"not json")
    assert "想吃什么" in say(platform, "点餐")


def _order_flow(app):
    from bot.router import get_registry

    return get_registry(app).flows["order"]
