"""`python -m bot say` against a stand-in bot on loopback that checks the callback with the platform crypto."""
from __future__ import annotations

import json
import socket
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from bot import terminal_client
from bot.config import load_settings
from tests.platform.crypto import PlatformCrypto

OLD_PUSH = {"id": 7, "via": "webhook", "chat": "wrkDemoGroup01", "msgtype": "text",
            "body": {"msgtype": "text", "text": {"content": "昨天的推送"}}}
NEW_PUSHES = [
    {"id": 8, "via": "webhook", "chat": "水库管理所工作群", "recipient": None, "msgtype": "markdown",
     "body": {"msgtype": "markdown", "markdown": {"content": "**本周打卡榜** 张三 第一"}}},
    {"id": 9, "via": "message/send", "chat": None, "recipient": "u001|u009", "msgtype": "voice",
     "body": {"msgtype": "voice", "voice": {"media_id": "MEDIA_voice_01"}}},
    {"id": 10, "via": "message/send", "chat": None, "recipient": "u001", "msgtype": "news",
     "body": {"msgtype": "news", "news": {"articles": [{"title": "防汛知识十问", "url": "http://127.0.0.1/a/1"}]}}},
    {"id": 11, "via": "message/send", "chat": None, "recipient": "u777", "msgtype": "text",
     "body": {"msgtype": "text", "text": {"content": "别人的消息"}}},
    {"id": 12, "via": "app", "chat": None, "recipient": "u001", "msgtype": "text", "dropped": True,
     "body": {"msgtype": "text", "text": {"content": "超频的第 31 条"}}},
]
ROSTER_CSV = "工号,姓名,部门\nu001,张三,水情调度科\nu002,李四,后勤保障科\n"


class StandInBot:
    """Plays the bot on 127.0.0.1:0: verifies each callback with PlatformCrypto and answers a passive reply."""

    def __init__(self):
        self.calls: list[dict] = []        # one per POST: channel, query, body, plaintext, receiveid, signature_ok
        self.status = 200
        self.has_standin = True
        self.reply_mode = "normal"         # normal | empty | stream | bad-signature | crash
        self.pushes = [OLD_PUSH]
        self.settings: dict = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_port

    def crypto(self, channel: str) -> PlatformCrypto:
        receiveid = self.settings["WECOM_CORP_ID"] if channel == "app" else ""
        return PlatformCrypto(self.settings["WECOM_TOKEN"], self.settings["WECOM_AES_KEY"], receiveid)

    def _handler(self):
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):   # keep pytest output clean
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                if not bot.has_standin:
                    return self._send(404, b"not found")
                if url.path == "/standin/messages":     # a bare list, oldest first, like bot/standin/control.py
                    since = int(parse_qs(url.query).get("since_id", ["0"])[0])
                    return self._json([p for p in bot.pushes if p["id"] > since])
                return self._send(404, b"not found")

            def do_POST(self):
                url = urlsplit(self.path)
                channel = url.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, reply = bot.answer(channel, {k: v[0] for k, v in parse_qs(url.query).items()}, body)
                self._send(status, reply)

            def _json(self, data):
                self._send(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")

            def _send(self, status, body, content_type="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def answer(self, channel: str, query: dict, body: bytes) -> tuple[int, bytes]:
        crypto, json_envelope = self.crypto(channel), channel == "aibot"
        encrypt = json.loads(body)["encrypt"] if json_envelope else ET.fromstring(body).findtext("Encrypt")
        signature_ok = crypto.sign(query["timestamp"], query["nonce"], encrypt) == query["msg_signature"]
        plaintext, receiveid = crypto.decrypt(encrypt)
        self.calls.append(dict(channel=channel, query=query, body=body, plaintext=plaintext, receiveid=receiveid,
                               signature_ok=signature_ok))
        if not signature_ok:
            return 403, b"bad signature"
        if self.reply_mode == "crash":
            raise RuntimeError("stand-in crashed on purpose")   # http.server drops the connection
        if self.status != 200:
            return self.status, "签名正确但拒绝".encode("utf-8")
        if len(self.calls) == 1:
            self.pushes.extend(NEW_PUSHES)      # what the jobs would have sent by the time the client looks
        if self.reply_mode == "empty":
            return 200, b""
        if self.reply_mode == "bad-signature":   # same key, wrong token: decrypts, but the signature is off
            crypto = PlatformCrypto("wrongToken", self.settings["WECOM_AES_KEY"], crypto.receiveid)
        return 200, crypto.seal_reply(self._reply_plaintext(channel, plaintext), json_envelope=json_envelope)

    def _reply_plaintext(self, channel: str, plaintext: str) -> str:
        if channel == "aibot":
            data = json.loads(plaintext)
            finished = self.reply_mode != "stream" or data["msgtype"] == "stream"
            content = "打卡成功，本月第 3 次" if finished else "正在记录…"
            return json.dumps({"msgtype": "stream", "stream": {"id": "st-1", "finish": finished, "content": content}},
                              ensure_ascii=False)
        root = ET.fromstring(plaintext.encode("utf-8"))
        if channel == "robot":
            return ("<xml><MsgType>markdown</MsgType><VisibleToUser>u001</VisibleToUser>"
                    "<Markdown><Content><![CDATA[**打卡成功** 本月第 3 次]]></Content></Markdown></xml>")
        return (f"<xml><ToUserName><![CDATA[{root.findtext('FromUserName')}]]></ToUserName>"
                f"<FromUserName><![CDATA[{root.findtext('ToUserName')}]]></FromUserName>"
                f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[你本月积分 42]]></Content></xml>")


@pytest.fixture
def standin(tmp_path, monkeypatch):
    bot = StandInBot()
    # demo mode: no WECOM_* set, so the client and this stand-in share the demo credentials in the instance folder
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORT", str(bot.port))
    bot.settings = load_settings()
    assert bot.settings["DEMO_MODE"]
    monkeypatch.setattr(terminal_client, "POLL_INTERVAL", 0)
    monkeypatch.setattr(terminal_client, "STREAM_REFRESH_INTERVAL", 0)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_CSV, "utf-8")
    monkeypatch.setattr(terminal_client, "DEMO_ROSTER", roster)
    thread = threading.Thread(target=bot.server.serve_forever, daemon=True)
    thread.start()
    yield bot
    bot.server.shutdown()
    bot.server.server_close()
    thread.join(5)


def test_group_robot_reply_and_pushes(standin, capsys):
    code = terminal_client.main(["say", "--as", "u001", "--group", "--wait", "0", "打卡", "今天学习了防汛知识"])

    out = capsys.readouterr().out
    assert code == 0
    [call] = standin.calls
    assert call["channel"] == "robot" and call["signature_ok"] and call["receiveid"] == ""
    assert set(call["query"]) == {"msg_signature", "timestamp", "nonce"}
    assert [c.tag for c in ET.fromstring(call["body"])] == ["Encrypt"]
    sent = ET.fromstring(call["plaintext"].encode("utf-8"))
    assert sent.findtext("MsgType") == "text"
    assert sent.findtext("Text/Content") == "@思政助手 打卡 今天学习了防汛知识"
    assert sent.findtext("ChatId") == "wrkDemoGroup01" and sent.findtext("ChatType") == "group"
    assert sent.findtext("From/UserId") == "u001" and sent.findtext("From/Name") == "张三"
    assert sent.findtext("MsgId") and sent.findtext("WebhookUrl").startswith(standin.settings["WECOM_API_BASE"])

    assert out.startswith("发送：u001（张三）在群「水库管理所工作群」经 robot 说：打卡 今天学习了防汛知识\n")
    assert "机器人回复：\n  **打卡成功** 本月第 3 次\n  （仅 u001 可见）" in out
    # the demo webhook serves the group under its id and its name alike
    assert "收到推送：（群 水库管理所工作群 · markdown）\n  **本周打卡榜** 张三 第一" in out
    assert "收到推送：（发给 u001 · voice）\n  [语音] MEDIA_voice_01" in out
    assert "防汛知识十问 http://127.0.0.1/a/1" in out
    assert "昨天的推送" not in out and "别人的消息" not in out
    assert "dropped push: 发给 u001 · text\n  超频的第 31 条" in out


def test_one_to_one_defaults_to_the_app(standin, capsys):
    code = terminal_client.main(["--as", "u002", "--wait", "0", "--raw", "我的积分"])   # lead strips "say"

    out = capsys.readouterr().out
    assert code == 0
    [call] = standin.calls
    assert call["channel"] == "app" and call["signature_ok"]
    assert call["receiveid"] == standin.settings["WECOM_CORP_ID"]
    envelope = ET.fromstring(call["body"])
    assert envelope.findtext("ToUserName") == standin.settings["WECOM_CORP_ID"]
    assert envelope.findtext("AgentID") == str(standin.settings["WECOM_AGENT_ID"])
    sent = ET.fromstring(call["plaintext"].encode("utf-8"))
    assert sent.findtext("Content") == "我的积分" and sent.findtext("FromUserName") == "u002"
    assert sent.findtext("MsgId").isdigit() and "<MsgId><![CDATA[" not in call["plaintext"]
    assert "机器人回复：\n  你本月积分 42" in out
    assert "<ToUserName><![CDATA[u002]]></ToUserName>" in out          # --raw
    assert "收到推送" not in out                                          # nothing for u002


def test_aibot_stream_is_refreshed_until_finished(standin, capsys):
    standin.reply_mode = "stream"
    code = terminal_client.main(["--as", "u001", "--group", "--channel", "aibot", "--wait", "0", "打卡"])

    out = capsys.readouterr().out
    assert code == 0
    first, refresh = standin.calls
    assert all(c["channel"] == "aibot" and c["signature_ok"] and c["receiveid"] == "" for c in standin.calls)
    assert list(json.loads(first["body"])) == ["encrypt"]
    sent = json.loads(first["plaintext"])
    assert sent["msgtype"] == "text" and sent["text"]["content"] == "@思政助手 打卡"
    assert sent["chatid"] == "wrkDemoGroup01" and sent["chattype"] == "group" and sent["from"]["userid"] == "u001"
    assert json.loads(refresh["plaintext"])["stream"]["id"] == "st-1"
    assert "机器人回复：\n  打卡成功，本月第 3 次" in out and "正在记录" not in out


def test_empty_reply_is_fine(standin, capsys):
    standin.reply_mode = "empty"
    assert terminal_client.main(["--as", "u001", "--group", "--wait", "0", "你好"]) == 0
    assert "机器人回复：（没有被动回复" in capsys.readouterr().out


def test_names_come_from_the_roster_else_the_userid_and_pushes_need_the_standin(standin, capsys):
    standin.has_standin = False          # a real tenant: no /standin, so no push log to read
    assert terminal_client.main(["--as", "u001", "--group", "--wait", "0", "打卡"]) == 0
    assert terminal_client.main(["--as", "u404", "--group", "--wait", "0", "打卡"]) == 0
    assert terminal_client.main(["--as", "u002", "--name", "小李", "--group", "--wait", "0", "打卡"]) == 0
    names = [ET.fromstring(c["plaintext"].encode("utf-8")).findtext("From/Name") for c in standin.calls]
    assert names == ["张三", "u404", "小李"]
    out = capsys.readouterr().out
    assert "机器人回复：" in out and "收到推送" not in out


def test_non_200_is_reported_with_its_status(standin, capsys):
    standin.status = 403
    assert terminal_client.main(["--as", "u001", "--group", "--wait", "0", "打卡"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 403" in err and "expected 200" in err


def test_reply_with_a_bad_signature_is_refused(standin, capsys):
    standin.reply_mode = "bad-signature"
    assert terminal_client.main(["--as", "u001", "--group", "--wait", "0", "打卡"]) == 2
    assert "signature" in capsys.readouterr().err


def test_dropped_connection_is_not_called_not_running(standin, capsys):
    standin.reply_mode = "crash"
    assert terminal_client.main(["--as", "u001", "--group", "--wait", "0", "打卡"]) == 2
    err = capsys.readouterr().err
    assert "dropped the connection" in err and "is it running" not in err


def test_bot_not_running(tmp_path, monkeypatch, capsys):
    with socket.socket() as sock:          # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORT", str(port))

    assert terminal_client.main(["--as", "u001", "--group", "打卡"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"连不上机器人：http://127.0.0.1:{port} 没有在运行（先启动机器人）"
                   f"/ cannot reach the bot at http://127.0.0.1:{port}: is it running?")


def test_app_channel_refuses_group(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    assert terminal_client.main(["--as", "u001", "--group", "--channel", "app", "打卡"]) == 2
    assert "one-to-one" in capsys.readouterr().err
