"""The WeCom stand-in through a Flask app: tokens, sends, limits, uploads, records and scripting."""
from __future__ import annotations

import io

import fakeredis
import pytest

from bot import create_app
from bot.standin import codes
from tests.conftest import TEST_CORP_ID, make_settings

SECRET = "testsecret0123456789"
AGENT_ID = 1000002
WEBHOOKS = {"班级群": "key-class"}
AMR_FRAME = b"\x3c" + b"\x00" * 31       # mode 7: header byte + 31 payload bytes = 20 ms


def amr(frames: int) -> bytes:
    return b"#!AMR\n" + AMR_FRAME * frames


class StandinActions:
    """Speaks to the stand-in the way the bot's client would, with short helpers for tests."""

    def __init__(self, client):
        self.client = client

    def gettoken(self, corpid=TEST_CORP_ID, secret=SECRET) -> dict:
        return self.client.get("/standin/gettoken", query_string={"corpid": corpid, "corpsecret": secret}).json

    def token(self) -> str:
        return self.gettoken()["access_token"]

    def send(self, body: dict, *, token: str | None = None) -> dict:
        token = token if token is not None else self.token()
        return self.client.post("/standin/message/send", query_string={"access_token": token}, json=body).json

    def send_text(self, touser: str, content: str = "你好", **kw) -> dict:
        body = {"agentid": AGENT_ID, "touser": touser, "msgtype": "text", "text": {"content": content}}
        return self.send(body, **kw)

    def webhook(self, body: dict, key: str = "key-class") -> dict:
        return self.client.post("/standin/webhook/send", query_string={"key": key}, json=body).json

    def upload(self, kind: str, data: bytes, *, filename: str = "a.amr", key: str | None = None) -> dict:
        if key is None:
            path, query = "/standin/media/upload", {"access_token": self.token(), "type": kind}
        else:
            path, query = "/standin/webhook/upload_media", {"key": key, "type": kind}
        return self.client.post(path, query_string=query, data={"media": (io.BytesIO(data), filename)},
                                content_type="multipart/form-data").json

    def control(self, **settings) -> dict:
        response = self.client.post("/standin/_control", json=settings)
        assert response.status_code == 200, response.json
        return response.json

    def messages(self, **filters) -> list[dict]:
        return self.client.get("/standin/messages", query_string=filters).json

    def stats(self) -> dict:
        return self.client.get("/standin/_control/stats").json


@pytest.fixture
def standin_app(tmp_path):
    settings = make_settings(tmp_path, STANDIN_ENABLED=True, HANDLER_MODULES=(), WECOM_GROUP_WEBHOOKS=WEBHOOKS)
    return create_app(settings, redis=fakeredis.FakeRedis())


@pytest.fixture
def standin(standin_app):
    return StandinActions(standin_app.test_client())


# --- tokens ----------------------------------------------------------------------------------

def test_gettoken_checks_corpid_and_secret(standin):
    answer = standin.gettoken()
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200
    assert 0 < len(answer["access_token"].encode()) <= 512
    assert standin.gettoken(corpid="wrong")["errcode"] == codes.INVALID_CORPID
    assert standin.gettoken(secret="wrong")["errcode"] == codes.INVALID_SECRET
    assert standin.stats()["tokens_issued"] == 1


def test_token_is_reused_within_validity_and_counted(standin):
    assert standin.token() == standin.token()
    assert standin.stats()["tokens_issued"] == 2


def test_missing_and_unknown_tokens(standin):
    assert standin.client.post("/standin/message/send", json={}).json["errcode"] == codes.MISSING_TOKEN
    assert standin.send_text("u1", token="made-up")["errcode"] == codes.INVALID_TOKEN


def test_expired_tokens_answer_42001_until_refetched(standin):
    old = standin.token()
    standin.control(expire_tokens=True)
    assert standin.send_text("u1", token=old)["errcode"] == codes.TOKEN_EXPIRED
    new = standin.token()
    assert new != old
    assert standin.send_text("u1", token=new)["errcode"] == 0


# --- app messages ----------------------------------------------------------------------------

def test_text_over_2048_bytes_is_refused_and_not_recorded(standin):
    answer = standin.send_text("u1", "字" * 683)                 # 2049 bytes in UTF-8
    assert answer["errcode"] == codes.CONTENT_TOO_LONG
    assert standin.messages() == []


def test_more_than_1000_users_is_refused(standin):
    answer = standin.send_text("|".join(f"u{i}" for i in range(1001)))
    assert answer["errcode"] == codes.INVALID_PARAMETER


def test_wrong_agentid_is_40056(standin):
    body = {"agentid": 1, "touser": "u1", "msgtype": "text", "text": {"content": "hi"}}
    assert standin.send(body)["errcode"] == codes.INVALID_AGENTID


def test_app_send_answers_like_wecom_and_records_each_member(standin):
    answer = standin.send_text("u1|u2")
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok" and answer["invaliduser"] == ""
    assert answer["msgid"]
    records = standin.messages()
    assert [(r["via"], r["recipient"], r["dropped"]) for r in records] == [("app", "u1", False), ("app", "u2", False)]
    assert records[0]["body"]["text"]["content"] == "你好" and records[0]["msgtype"] == "text"
    # each record is what that member received: his own id, not the whole list (a 1000-member send
    # would otherwise store the 1000 ids a thousand times)
    assert [r["body"]["touser"] for r in records] == ["u1", "u2"]
    assert {k: v for k, v in records[1]["body"].items() if k != "touser"} == {
        "agentid": AGENT_ID, "msgtype": "text", "text": {"content": "你好"}}


def test_31st_message_to_a_member_in_a_minute_is_dropped_silently(standin):
    token = standin.token()
    answers = [standin.send_text("u1", f"#{i}", token=token) for i in range(31)]
    assert all(a["errcode"] == 0 for a in answers)
    records = standin.messages(recipient="u1")
    assert [r["dropped"] for r in records] == [False] * 30 + [True]
    # the limit is per member: someone else still receives
    assert standin.send_text("u2", token=token)["errcode"] == 0
    assert standin.messages(recipient="u2")[0]["dropped"] is False
    assert standin.stats()["dropped"] == 1


def test_roster_moves_unknown_members_to_invaliduser(standin):
    standin.control(roster=["u1", "u2"])
    answer = standin.send_text("u1|ghost")
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost"
    assert [r["recipient"] for r in standin.messages()] == ["u1"]
    assert standin.send_text("ghost|phantom")["errcode"] == codes.ALL_RECIPIENTS_INVALID


def test_appchat_needs_a_chat_created_through_control(standin):
    token = standin.token()
    body = {"chatid": "class1", "msgtype": "markdown", "markdown": {"content": "**hi**"}}
    post = lambda: standin.client.post("/standin/appchat/send", query_string={"access_token": token}, json=body)
    assert post().json["errcode"] == codes.CHAT_NOT_EXIST
    standin.control(appchats=["class1"])
    assert post().json["errcode"] == 0
    assert [(r["via"], r["chat"]) for r in standin.messages()] == [("appchat", "class1")]


# --- webhooks --------------------------------------------------------------------------------

def test_webhook_21st_message_in_a_minute_gets_45009(standin):
    body = {"msgtype": "text", "text": {"content": "打卡提醒"}}
    answers = [standin.webhook(body) for _ in range(21)]
    assert [a["errcode"] for a in answers] == [0] * 20 + [codes.FREQ_LIMIT]
    assert answers[-1]["errmsg"].startswith("api freq out of limit")
    assert len(standin.messages(chat="班级群")) == 20


def test_unknown_webhook_key_is_93000_and_control_can_add_robots(standin):
    body = {"msgtype": "markdown", "markdown": {"content": "# 通知"}}
    assert standin.webhook(body, key="nope")["errcode"] == codes.INVALID_WEBHOOK
    standin.control(webhooks={"二班": "key-two"})
    assert standin.webhook(body, key="key-two")["errcode"] == 0
    assert standin.messages()[0]["chat"] == "二班"


# --- media -----------------------------------------------------------------------------------

def test_voice_without_amr_header_is_refused(standin):
    answer = standin.upload("voice", b"RIFF" + b"\x00" * 64, filename="a.wav")
    assert answer["errcode"] == codes.INVALID_MEDIA_TYPE


def test_valid_amr_is_stored_and_can_be_played_back(standin):
    data = amr(50)
    answer = standin.upload("voice", data)
    assert answer["errcode"] == 0 and answer["type"] == "voice"
    assert isinstance(answer["created_at"], str) and answer["created_at"].isdigit()
    fetched = standin.client.get(f"/standin/media/{answer['media_id']}")
    assert fetched.data == data and fetched.mimetype == "audio/amr"
    body = {"agentid": AGENT_ID, "touser": "u1", "msgtype": "voice", "voice": {"media_id": answer["media_id"]}}
    assert standin.send(body)["errcode"] == 0


def test_voice_over_60_seconds_is_refused(standin):
    answer = standin.upload("voice", amr(3001))                     # 60.02 s, ~96 KB
    assert answer["errcode"] == codes.VOICE_TOO_LONG


def test_unknown_media_id_is_40007(standin):
    body = {"agentid": AGENT_ID, "touser": "u1", "msgtype": "file", "file": {"media_id": "never-issued"}}
    assert standin.send(body)["errcode"] == codes.INVALID_MEDIA_ID


def test_webhook_media_belongs_to_the_uploading_robot(standin):
    standin.control(webhooks={"二班": "key-two"})
    media_id = standin.upload("voice", amr(10), key="key-class")["media_id"]
    body = {"msgtype": "voice", "voice": {"media_id": media_id}}
    assert standin.webhook(body, key="key-class")["errcode"] == 0
    assert standin.webhook(body, key="key-two")["errcode"] == codes.INVALID_MEDIA_ID
    app_media = standin.upload("voice", amr(10))["media_id"]
    assert standin.webhook({"msgtype": "voice", "voice": {"media_id": app_media}})["errcode"] == codes.INVALID_MEDIA_ID


def test_webhook_upload_checks_the_file_before_the_key(standin):
    assert standin.upload("file", b"12345", filename="a.txt", key="nope")["errcode"] == codes.EMPTY_MEDIA
    assert standin.upload("file", b"hello world", filename="a.txt", key="nope")["errcode"] == codes.INVALID_WEBHOOK


def test_webhook_upload_takes_only_file_and_voice(standin):
    answer = standin.upload("image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, filename="a.png", key="key-class")
    assert answer["errcode"] == codes.INVALID_TYPE


# --- scripting, records, violations ----------------------------------------------------------

def test_fail_next_is_consumed_in_order_for_its_path_only(standin):
    token = standin.token()
    standin.control(fail_next=[{"path": "message/send", "errcode": 45009},
                               {"path": "/cgi-bin/message/send", "errcode": -1, "errmsg": "system busy"}])
    assert standin.webhook({"msgtype": "text", "text": {"content": "x"}})["errcode"] == 0
    assert standin.send_text("u1", token=token)["errcode"] == 45009
    assert standin.send_text("u1", token=token) == {"errcode": -1, "errmsg": "system busy"}
    assert standin.send_text("u1", token=token)["errcode"] == 0
    assert len(standin.messages(recipient="u1")) == 1


def test_latency_is_applied_to_api_calls(standin, monkeypatch):
    slept = []
    monkeypatch.setattr("bot.standin.api.time.sleep", slept.append)
    standin.control(latency_ms=50)
    standin.gettoken()
    standin.messages()                   # control endpoints are not delayed
    [seconds] = slept                    # the answer takes 50 ms in all: the stand-in's own work included
    assert 0.03 < seconds <= 0.05


def test_unknown_path_is_404_and_a_violation(standin):
    response = standin.client.post("/standin/user/get?userid=u1", json={"a": 1})
    assert response.status_code == 404
    assert response.json["errcode"] == 404 and response.json["errmsg"].startswith("unexpected call")
    [violation] = standin.client.get("/standin/violations").json
    assert violation["method"] == "POST" and violation["path"] == "/standin/user/get"
    assert violation["query"] == "userid=u1"


def test_messages_can_be_filtered_and_cleared(standin):
    standin.send_text("u1")
    standin.webhook({"msgtype": "text", "text": {"content": "群消息"}})
    standin.send_text("u2")
    everything = standin.messages()
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert [r["recipient"] for r in standin.messages(recipient="u2")] == ["u2"]
    assert [r["via"] for r in standin.messages(chat="班级群")] == ["webhook"]
    assert [r["recipient"] for r in standin.messages(since_id=everything[0]["id"])] == [None, "u2"]
    standin.client.delete("/standin/messages")
    assert standin.messages() == []


def test_stats_count_calls_per_path(standin):
    standin.send_text("u1")
    standin.webhook({"msgtype": "text", "text": {"content": "x"}})
    calls = standin.stats()["calls"]
    assert calls["gettoken"] == 1 and calls["message/send"] == 1 and calls["webhook/send"] == 1


def test_reset_forgets_everything(standin):
    token = standin.token()
    standin.send_text("u1", token=token)
    standin.control(reset=True)
    assert standin.messages() == []
    assert standin.send_text("u1", token=token)["errcode"] == codes.INVALID_TOKEN
    assert standin.stats()["tokens_issued"] == 0


def test_control_refuses_unknown_settings(standin):
    response = standin.client.post("/standin/_control", json={"latency": 5})
    assert response.status_code == 400 and "unknown keys" in response.json["error"]
