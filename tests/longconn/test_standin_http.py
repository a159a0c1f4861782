"""POST /standin/longconn/messages: the simulator's and terminal client's way to talk through the long connection."""
from __future__ import annotations

import threading

import pytest

from bot import db
from bot.standin.longconn_bridge import serve_inbox
from tests.factories import member


@pytest.fixture
def bridge(app, wecom, valkey):
    stop = threading.Event()
    thread = threading.Thread(target=serve_inbox, args=(wecom, valkey, stop), kwargs={"poll_seconds": 0.1}, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


@pytest.fixture
def http(app):
    from bot.standin import bp as standin_bp

    app.register_blueprint(standin_bp, url_prefix="/standin")
    return app.test_client()


def test_a_message_posted_over_http_is_answered_by_the_bot(http, bridge, bot):
    member(db.get_session(), "u001")
    answer = http.post("/standin/longconn/messages", json={"userid": "u001", "text": "帮助"})
    assert answer.status_code == 200, answer.get_json()
    assert "思政助手可以帮您" in answer.get_json()["replies"][0]
    group = http.post("/standin/longconn/messages", json={"userid": "u001", "text": "帮助", "chatid": "wrkG1"})
    assert group.status_code == 200 and "思政助手可以帮您" in group.get_json()["replies"][0]


def test_without_a_connected_bot_the_endpoint_says_so(http, bridge):
    answer = http.post("/standin/longconn/messages", json={"userid": "u001", "text": "帮助"})
    assert answer.status_code == 503 and "no bot is connected" in answer.get_json()["error"]


@pytest.mark.parametrize("body", [[], {"text": "帮助"}, {"userid": "u001", "text": ""},
                                  {"userid": "u001", "text": "帮助", "chattype": "group"},
                                  {"userid": "u001", "text": "帮助", "chattype": "channel"}])
def test_a_malformed_body_is_refused(http, body):
    answer = http.post("/standin/longconn/messages", json=body)
    assert answer.status_code == 400 and answer.get_json()["error"]
