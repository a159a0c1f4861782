"""`python -m bot say`: play WeCom from a terminal against the running bot and show what comes back.

It sends one real encrypted callback over HTTP, exactly as WeCom would, prints the decrypted passive
reply, then prints the pushes that the member (or the group) received from the local stand-in.
"""
from __future__ import annotations

import argparse
import csv
import json
import secrets
import struct
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from defusedxml import ElementTree as SafeET
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner

from bot.config import DEMO_GROUP_ID, DEMO_GROUP_NAME, DEMO_GROUP_WEBHOOKS, ConfigError, load_settings

MENTION = "@思政助手 "
CALLBACK_TIMEOUT = 5         # WeCom gives up on a callback after 5 s and sends it again
LONGCONN_TIMEOUT = 12        # the stand-in waits up to 8 s for the bot's answer on the socket
POLL_INTERVAL = 0.3          # between reads of the stand-in's message log
STREAM_REFRESH_INTERVAL = 0.5
STREAM_BUDGET = 10           # seconds to keep asking for an unfinished smart-bot stream
EXIT_OK, EXIT_FAILED = 0, 2
DEMO_ROSTER: Path | None = None   # None: the demo unit's roster.csv (bot.demo); tests point it elsewhere


class ClientError(Exception):
    """Something the newcomer must fix; the message is one Chinese + English line."""


@dataclass(frozen=True)
class Target:
    """Who speaks, where, and through which endpoint."""

    base: str
    channel: str
    user: str
    group: bool
    chat: str
    chat_names: frozenset[str] = frozenset()   # the chat id plus group names sharing its webhook


def main(argv: list[str]) -> int:
    """Run ``python -m bot say [options] TEXT...`` (a leading "say" in argv is skipped)."""
    if argv and argv[0] == "say":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:          # --help or a usage error; argparse has printed it
        return EXIT_OK if exc.code in (0, None) else EXIT_FAILED
    try:
        return _run(args)
    except ClientError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot say",
        description="以企业微信的身份给正在运行的机器人发一条消息 / send the running bot one message as WeCom would.")
    parser.add_argument("--as", dest="user", required=True, metavar="USERID", help="发送者 userid, e.g. u001")
    parser.add_argument("--group", action="store_true", help=f"在群里 @机器人 (chat {DEMO_GROUP_ID})")
    parser.add_argument("--channel", choices=("robot", "aibot", "app"),
                        help="default: robot with --group, app without")
    parser.add_argument("--chat", default=DEMO_GROUP_ID, help=f"group chat id (default {DEMO_GROUP_ID})")
    parser.add_argument("--name", help="From/Name for the robot channel (default: demo roster, else userid)")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to watch for pushes (default 3)")
    parser.add_argument("--raw", action="store_true", help="also print the decrypted reply as sent")
    parser.add_argument("--longconn", action="store_true",
                        help="经长连接替身说话 / speak through the long-connection stand-in (demo with WECOM_BOT_ID)")
    parser.add_argument("text", nargs="+", help="消息内容, e.g. 打卡 今天学习了防汛知识")
    return parser


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise ClientError(f"配置有误 / configuration error: {exc}") from None
    if args.longconn:
        return _say_longconn(f"http://127.0.0.1:{settings['PORT']}", args)
    channel = args.channel or ("robot" if args.group else "app")
    if channel == "app" and args.group:
        raise ClientError("自建应用只收一对一消息，请去掉 --group 或改用 --channel robot|aibot "
                          "/ the app channel is one-to-one: drop --group or use --channel robot|aibot")
    chat = args.chat if args.group else args.user
    target = Target(base=f"http://127.0.0.1:{settings['PORT']}", channel=channel, user=args.user, group=args.group,
                    chat=chat, chat_names=chat_names(settings, chat))
    since = _last_push_id(target.base)
    name = args.name or (demo_name(args.user) if settings.get("DEMO_MODE") else None) or args.user
    plaintext = callback_plaintext(target, " ".join(args.text), name=name, settings=settings)
    where = f"群「{DEMO_GROUP_NAME if target.chat == DEMO_GROUP_ID else target.chat}」" if target.group else "单聊"
    print(f"发送：{args.user}（{name}）在{where}经 {channel} 说：{' '.join(args.text)}")
    session = CallbackSession(target, settings)
    reply = session.post(plaintext)
    reply = session.finish_stream(reply, msgid=json.loads(plaintext)["msgid"]) if channel == "aibot" else reply
    _print_reply(reply, raw=args.raw)
    if since is not None:
        _print_pushes(target, since=since, wait=args.wait)
    return EXIT_OK


# ---- the callback, as WeCom would build it ----

def chat_names(settings: dict, chat: str) -> frozenset[str]:
    """``chat`` and every group name that shares its webhook (how pushes to that group name it)."""
    hooks = settings.get("WECOM_GROUP_WEBHOOKS") or {}
    key = hooks.get(chat)
    return frozenset({chat} | {name for name, value in hooks.items() if key and value == key})


def callback_plaintext(target: Target, text: str, *, name: str, settings: dict) -> str:
    chattype = "group" if target.group else "single"
    content = MENTION + text if target.group and target.channel != "app" else text
    msgid = uuid.uuid4().hex
    if target.channel == "app":
        fields = {"ToUserName": settings["WECOM_CORP_ID"], "FromUserName": target.user,
                  "CreateTime": int(time.time()), "MsgType": "text", "Content": content,
                  "MsgId": secrets.randbits(63), "AgentID": settings["WECOM_AGENT_ID"] or ""}
        # numbers go bare, strings in CDATA, as WeCom writes them
        return "<xml>" + "".join(f"<{k}>{v if isinstance(v, int) else _cdata(v)}</{k}>"
                                 for k, v in fields.items()) + "</xml>"
    if target.channel == "aibot":
        body = {"msgid": msgid, "aibotid": "aibdemo", "chatid": target.chat, "chattype": chattype,
                "from": {"userid": target.user},
                "response_url": f"{settings['WECOM_API_BASE']}/aibot/response?code={msgid}",
                "msgtype": "text", "text": {"content": content}}
        if not target.group:
            del body["chatid"]          # WeCom sends chatid for groups only
        return json.dumps(body, ensure_ascii=False)
    hooks = settings.get("WECOM_GROUP_WEBHOOKS") or {}
    key = hooks.get(target.chat) or DEMO_GROUP_WEBHOOKS.get(target.chat) or "demo"
    webhook = f"{settings['WECOM_API_BASE']}/webhook/send?key={key}"
    return ("<xml>" f"<WebhookUrl>{_cdata(webhook)}</WebhookUrl><MsgId>{_cdata(msgid)}</MsgId>"
            f"<ChatId>{_cdata(target.chat)}</ChatId><ChatType>{chattype}</ChatType>"
            f"<From><UserId>{_cdata(target.user)}</UserId><Name>{_cdata(name)}</Name><Alias></Alias></From>"
            f"<GetChatInfoUrl>{_cdata(webhook.replace('/send?', '/get_chat_info?'))}</GetChatInfoUrl>"
            f"<MsgType>text</MsgType><Text><Content>{_cdata(content)}</Content></Text></xml>")


def _cdata(value) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


class CallbackSession:
    """Encrypts callbacks for one channel and opens the bot's passive replies."""

    def __init__(self, target: Target, settings: dict):
        self.target = target
        self.receiveid = settings["WECOM_CORP_ID"] if target.channel == "app" else ""
        self.token = settings["WECOM_TOKEN"]
        self.crypto = WeChatCrypto(self.token, settings["WECOM_AES_KEY"], self.receiveid)
        self.agent_id = settings["WECOM_AGENT_ID"] or ""

    def post(self, plaintext: str) -> str | None:
        """Send one callback; return the decrypted reply, or None for an empty 200."""
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        encrypt = PrpCrypto(self.crypto.key).encrypt(plaintext, self.receiveid).decode("ascii")
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce, encrypt)
        query = {"msg_signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
        if self.target.channel == "aibot":
            body, content_type = json.dumps({"encrypt": encrypt}), "application/json"
        elif self.target.channel == "app":
            body = (f"<xml><ToUserName>{_cdata(self.receiveid)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt>"
                    f"<AgentID>{_cdata(self.agent_id)}</AgentID></xml>")
            content_type = "text/xml"
        else:
            body, content_type = f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt></xml>", "text/xml"
        url = f"{self.target.base}/wecom/{self.target.channel}"
        response = _http("POST", url, params=query, data=body.encode("utf-8"),
                         headers={"Content-Type": content_type}, timeout=CALLBACK_TIMEOUT)
        if response.status_code != 200:
            snippet = response.text.strip().replace("\n", " ")[:120]
            raise ClientError(f"机器人返回 HTTP {response.status_code}（应为 200）/ the bot answered HTTP "
                              f"{response.status_code}, expected 200{': ' + snippet if snippet else ''}")
        return self._open(response.content) if response.content.strip() else None

    def _open(self, body: bytes) -> str:
        try:
            if self.target.channel == "aibot":
                env = json.loads(body)
                fields = env["encrypt"], env["msgsignature"], env["timestamp"], env["nonce"]
            else:
                root = SafeET.fromstring(body)
                fields = tuple(root.findtext(k) for k in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce"))
                if None in fields:
                    raise KeyError("Encrypt/MsgSignature/TimeStamp/Nonce")
            encrypt, signature, timestamp, nonce = (str(f) for f in fields)
            return self.crypto.decrypt_message({"Encrypt": encrypt}, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise ClientError("回复签名不对 / the reply's signature does not match") from None
        except InvalidCorpIdException:
            raise ClientError(f"回复的 receiveid 不是 {self.receiveid!r} "
                              "/ the reply carries the wrong receiveid") from None
        except (ValueError, KeyError, TypeError, struct.error, SafeET.ParseError) as exc:
            raise ClientError(f"回复无法解密 / cannot open the reply: {type(exc).__name__}: {exc}") from None

    def finish_stream(self, reply: str | None, *, msgid: str) -> str | None:
        """Ask again, as WeCom does, until a smart-bot stream reply says finish=true."""
        deadline = time.monotonic() + STREAM_BUDGET
        while reply and _unfinished_stream(reply) and time.monotonic() < deadline:
            time.sleep(STREAM_REFRESH_INTERVAL)
            refresh = json.loads(reply)["stream"]["id"]
            body = {"msgid": f"{msgid}-r{uuid.uuid4().hex[:8]}", "aibotid": "aibdemo", "chatid": self.target.chat,
                    "chattype": "group" if self.target.group else "single", "from": {"userid": self.target.user},
                    "msgtype": "stream", "stream": {"id": refresh}}
            if not self.target.group:
                del body["chatid"]
            reply = self.post(json.dumps(body, ensure_ascii=False)) or reply
        return reply


def _unfinished_stream(reply: str) -> bool:
    try:
        data = json.loads(reply)
    except ValueError:
        return False
    return data.get("msgtype") == "stream" and not data.get("stream", {}).get("finish")


# ---- reading what came back ----

def reply_text(plaintext: str) -> str:
    """The human-readable content of a passive reply in any of the three formats."""
    if plaintext.lstrip().startswith("{"):
        data = json.loads(plaintext)
        for key in ("stream", "text", "markdown"):
            if isinstance(data.get(key), dict) and data[key].get("content") is not None:
                return data[key]["content"]
        return ((data.get("template_card") or {}).get("main_title") or {}).get("title") or plaintext
    root = SafeET.fromstring(plaintext.encode("utf-8"))
    for path in ("Text/Content", "Markdown/Content", "Content"):
        if root.find(path) is not None:
            text = root.findtext(path) or ""
            visible = root.findtext("VisibleToUser")
            return f"{text}\n（仅 {visible} 可见）" if visible else text
    articles = [f"{a.findtext('Title')} {a.findtext('Url') or ''}".strip() for a in root.iterfind("Articles/item")]
    return "\n".join(articles) or plaintext


def _print_reply(reply: str | None, *, raw: bool) -> None:
    if reply is None:
        print("机器人回复：（没有被动回复 / empty 200, no passive reply）")
        return
    text = reply_text(reply)
    if _unfinished_stream(reply):
        text += "\n（流式回复尚未结束 / stream not finished）"
    print("机器人回复：")
    print(_indent(text))
    if raw:
        print("解密后的原文 / decrypted reply:")
        print(_indent(reply))


def _say_longconn(base: str, args: argparse.Namespace) -> int:
    """Speak through the long-connection stand-in and print what the bot answered on the socket."""
    text = " ".join(args.text)
    print(f"发送：{args.user} 经长连接{'在群 ' + args.chat if args.group else '单聊'}说：{text}")
    for reply in say_over_longconn(base, args.user, text, chat=args.chat if args.group else None) \
            or ["（没有回复 / no reply）"]:
        print("机器人回复：")
        print(_indent(reply))
    return EXIT_OK


def say_over_longconn(base: str, user: str, text: str, *, chat: str | None = None) -> list[str]:
    """``POST /standin/longconn/messages``: the bot's answers (markdown) to ``text`` from ``user``,
    one-to-one or in group ``chat``.

    Raises:
        ClientError: the stand-in or the bot's long connection is not running.
    """
    body = {"userid": user, "text": text, **({"chatid": chat, "chattype": "group"} if chat else {})}
    response = _http("POST", f"{base}/standin/longconn/messages", json=body, timeout=LONGCONN_TIMEOUT)
    answer = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise ClientError(f"长连接替身没有转达 / the long-connection stand-in refused: "
                          f"{answer.get('error') or response.status_code}")
    return list(answer.get("replies") or [])


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in str(text).splitlines() or [""])


def _http(method: str, url: str, **kwargs) -> requests.Response:
    try:
        return requests.request(method, url, **kwargs)
    except requests.ConnectionError as exc:
        base = url.split("/wecom/")[0].split("/standin/")[0]
        if _refused(exc):
            raise ClientError(f"连不上机器人：{base} 没有在运行（先启动机器人）/ cannot reach the bot at {base}: "
                              "is it running?") from None
        raise ClientError(f"机器人中途断开了连接 / the bot at {base} dropped the connection: {exc}") from None
    except requests.Timeout:
        raise ClientError(f"机器人 {kwargs.get('timeout')} 秒内没有应答（企业微信会重发）/ the bot did not answer "
                          f"within {kwargs.get('timeout')} s (WeCom would retry)") from None


def _refused(exc: BaseException) -> bool:
    """Nobody listens on the port (as opposed to a bot that accepted and then crashed)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionRefusedError):
            return True
        todo += [err.__cause__, err.__context__, getattr(err, "reason", None)]
        todo += [a for a in getattr(err, "args", ()) if isinstance(a, BaseException)]
    return False


def _standin_json(base: str, path: str, params: dict | None = None):
    """GET a stand-in endpoint; None if there is no stand-in (real tenant) or it answers oddly."""
    response = _http("GET", f"{base}/standin/{path}", params=params, timeout=CALLBACK_TIMEOUT)
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def demo_name(user: str) -> str | None:
    """The member's name from the demo roster (工号, 姓名 columns), as WeCom would put it in From/Name."""
    path = DEMO_ROSTER
    if path is None:
        from bot.demo import DEMO_DIR

        path = DEMO_DIR / "roster.csv"
    try:
        rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError):
        return None
    header = rows[0] if rows else []
    if "工号" not in header or "姓名" not in header:
        return None
    userid_col, name_col = header.index("工号"), header.index("姓名")
    for row in rows[1:]:
        if len(row) > max(userid_col, name_col) and row[userid_col].strip() == user:
            return row[name_col].strip() or None
    return None


def _push_log(base: str, since: int | None) -> tuple[list[dict], int] | None:
    """New records of ``GET /standin/messages`` (a list, oldest first) and the highest id seen."""
    data = _standin_json(base, "messages", None if since is None else {"since_id": since})
    if not isinstance(data, list):
        return None
    items = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), int) and m["id"] > (since or 0)]
    return items, max([m["id"] for m in items] + [since or 0])


def _last_push_id(base: str) -> int | None:
    log = _push_log(base, None)
    return None if log is None else log[1]


def _print_pushes(target: Target, *, since: int, wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0)
    while True:
        log = _push_log(target.base, since)
        if log is None:
            return
        items, since = log
        for item in items:
            in_group = target.group and item.get("chat") in target.chat_names
            if not in_group and target.user not in str(item.get("recipient") or "").split("|"):
                continue
            where = f"群 {item['chat']}" if in_group else f"发给 {target.user}"
            if item.get("dropped"):   # WeCom drops over-limit sends silently; the member never sees them
                print(f"被丢弃的推送（超频，成员收不到）/ dropped push: {where} · {item.get('msgtype')}")
            else:
                print(f"收到推送：（{where} · {item.get('msgtype')}）")
            print(_indent(push_text(item)))
        if time.monotonic() >= deadline:
            return
        time.sleep(POLL_INTERVAL)


def push_text(item: dict) -> str:
    """Readable text of one stand-in log entry: text/markdown content, news titles+links, voice media id."""
    body, msgtype = item.get("body") or {}, item.get("msgtype") or ""
    part = body.get(msgtype) if isinstance(body.get(msgtype), dict) else {}
    if msgtype in ("text", "markdown", "markdown_v2"):
        return str(part.get("content", ""))
    if msgtype in ("news", "mpnews"):
        return "\n".join(f"{a.get('title', '')} {a.get('url', '')}".strip() for a in part.get("articles", []))
    if msgtype == "textcard":
        return f"{part.get('title', '')}\n{part.get('description', '')}\n{part.get('url', '')}".strip()
    labels = {"voice": "语音", "image": "图片", "file": "文件", "video": "视频"}
    if msgtype in labels:
        return f"[{labels[msgtype]}] {part.get('media_id', '')}".strip()
    if msgtype == "template_card":
        return ((part.get("main_title") or {}).get("title")) or "[模板卡片]"
    return json.dumps(body, ensure_ascii=False)[:300]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
