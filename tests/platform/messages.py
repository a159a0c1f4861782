"""Decrypted callbacks as WeCom sends them (wecom-protocol.md §2-§4); keyword defaults for everything."""
from __future__ import annotations

import itertools
import json
import time
import uuid

from tests.platform.crypto import cdata

BOT_NAME = "思政助手"
MENTION = f"@{BOT_NAME} "
DEMO_CHAT = "wrkSFfCgAAdemo"
DEMO_WEBHOOK = "http://127.0.0.1/standin/webhook/send?key=demo"

_app_ids = itertools.count(1)


def new_msg_id() -> str:
    """A fresh opaque message id (robot and smart bot ids are strings, not numbers)."""
    return uuid.uuid4().hex


def new_app_msg_id() -> int:
    """A fresh 64-bit message id, as the app callback carries."""
    return (int(time.time() * 1000) << 20 | next(_app_ids) & 0xFFFFF) & (2**63 - 1)


def _mention(text: str, chattype: str) -> str:
    # in a group WeCom only delivers messages that @-mention the bot, and keeps the mention in the text
    return MENTION + text if chattype == "group" and not text.startswith(MENTION.strip()) else text


def _xml(fields: list[tuple[str, object]]) -> str:
    parts = []
    for name, value in fields:
        if isinstance(value, list):
            parts.append(f"<{name}>{_xml(value)}</{name}>")
        elif isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}>{cdata(str(value))}</{name}>")
    return "".join(parts)


# ---- group robot (群机器人回调, XML, receiveid "") ----

def _robot(msgtype: str, payload: list, *, user: str, name: str, alias: str, chat: str, chattype: str,
           msg_id: str | None, webhook_url: str, chat_info_url: str | None) -> str:
    fields = [
        ("WebhookUrl", webhook_url),
        ("MsgId", new_msg_id() if msg_id is None else msg_id),
        ("ChatId", chat),
        ("ChatType", chattype),
        ("From", [("UserId", user), ("Name", name), ("Alias", alias)]),
        ("GetChatInfoUrl", chat_info_url or webhook_url.replace("/send?", "/get_chat_info?")),
        ("MsgType", msgtype),
        *payload,
    ]
    return f"<xml>{_xml(fields)}</xml>"


def robot_text(text: str, *, user: str = "u001", name: str = "张三", alias: str = "", chat: str = DEMO_CHAT,
               chattype: str = "group", msg_id: str | None = None, webhook_url: str = DEMO_WEBHOOK,
               chat_info_url: str | None = None) -> str:
    """An @-mention (group) or a 1:1 text to the group robot."""
    return _robot("text", [("Text", [("Content", _mention(text, chattype))])], user=user, name=name, alias=alias,
                  chat=chat, chattype=chattype, msg_id=msg_id, webhook_url=webhook_url, chat_info_url=chat_info_url)


def robot_event(event_type: str, *, user: str = "u001", name: str = "张三", alias: str = "", chat: str = DEMO_CHAT,
                chattype: str = "group", msg_id: str | None = None, webhook_url: str = DEMO_WEBHOOK,
                chat_info_url: str | None = None) -> str:
    """add_to_chat / delete_from_chat / enter_chat."""
    return _robot("event", [("Event", [("EventType", event_type)])], user=user, name=name, alias=alias, chat=chat,
                  chattype=chattype, msg_id=msg_id, webhook_url=webhook_url, chat_info_url=chat_info_url)


def robot_other(msgtype: str = "image", *, user: str = "u001", name: str = "张三", alias: str = "",
                chat: str = DEMO_CHAT, chattype: str = "single", msg_id: str | None = None,
                webhook_url: str = DEMO_WEBHOOK, chat_info_url: str | None = None,
                image_url: str = "http://127.0.0.1/standin/media/demo.jpg", text: str = "看看这张图") -> str:
    """A non-text robot callback: image (1:1 only), mixed text+image, or any other type with no payload."""
    if msgtype == "image":
        payload = [("Image", [("ImageUrl", image_url)])]
    elif msgtype == "mixed":
        items = [("MsgItem", [("MsgType", "text"), ("Text", [("Content", _mention(text, chattype))])]),
                 ("MsgItem", [("MsgType", "image"), ("Image", [("ImageUrl", image_url)])])]
        payload = [("MixedMessage", items)]
    else:
        payload = []
    return _robot(msgtype, payload, user=user, name=name, alias=alias, chat=chat, chattype=chattype, msg_id=msg_id,
                  webhook_url=webhook_url, chat_info_url=chat_info_url)


# ---- smart bot (智能机器人, JSON, receiveid "") ----

def _aibot(msgtype: str, payload: dict, *, user: str, chat: str, chattype: str, msg_id: str | None,
           aibotid: str, response_url: str | None) -> str:
    msgid = new_msg_id() if msg_id is None else msg_id
    body: dict = {"msgid": msgid, "aibotid": aibotid}
    if chattype == "group":
        body["chatid"] = chat
    body.update({"chattype": chattype, "from": {"userid": user},
                 "response_url": response_url or f"http://127.0.0.1/standin/aibot/response/{msgid}",
                 "msgtype": msgtype, **payload})
    return json.dumps(body, ensure_ascii=False)


def aibot_text(text: str, *, user: str = "u001", chat: str = DEMO_CHAT, chattype: str = "group",
               msg_id: str | None = None, aibotid: str = "aibdemo", response_url: str | None = None) -> str:
    """A text to the smart bot; in a group it starts with the @-mention."""
    return _aibot("text", {"text": {"content": _mention(text, chattype)}}, user=user, chat=chat, chattype=chattype,
                  msg_id=msg_id, aibotid=aibotid, response_url=response_url)


def aibot_stream_refresh(stream_id: str, *, user: str = "u001", chat: str = DEMO_CHAT, chattype: str = "group",
                         msg_id: str | None = None, aibotid: str = "aibdemo", response_url: str | None = None) -> str:
    """WeCom polling for more of an unfinished stream reply."""
    return _aibot("stream", {"stream": {"id": stream_id}}, user=user, chat=chat, chattype=chattype, msg_id=msg_id,
                  aibotid=aibotid, response_url=response_url)


def aibot_other(msgtype: str = "image", *, user: str = "u001", chat: str = DEMO_CHAT, chattype: str = "single",
                msg_id: str | None = None, aibotid: str = "aibdemo", response_url: str | None = None,
                url: str = "http://127.0.0.1/standin/media/demo.bin", content: str = "今天学习了防汛知识") -> str:
    """image / file / video carry a url; voice carries WeCom's speech-to-text content."""
    payload = {"voice": {"content": content}} if msgtype == "voice" else {msgtype: {"url": url}}
    return _aibot(msgtype, payload, user=user, chat=chat, chattype=chattype, msg_id=msg_id, aibotid=aibotid,
                  response_url=response_url)


def aibot_event(eventtype: str = "enter_chat", *, user: str = "u001", corp_id: str = "wwdemocorp",
                chat: str = DEMO_CHAT, chattype: str = "single", msg_id: str | None = None,
                aibotid: str = "aibdemo", create_time: int | None = None) -> str:
    """An event such as enter_chat (a user opens the 1:1 chat with the bot)."""
    body: dict = {"msgid": new_msg_id() if msg_id is None else msg_id, "create_time": create_time or int(time.time()),
                  "aibotid": aibotid}
    if chattype == "group":
        body["chatid"] = chat
    body.update({"chattype": chattype, "from": {"corpid": corp_id, "userid": user}, "msgtype": "event",
                 "event": {"eventtype": eventtype}})
    return json.dumps(body, ensure_ascii=False)


# ---- self-built app (自建应用, XML, receiveid = corp id) ----

def _app(msgtype: str, payload: list, *, user: str, corp_id: str, agent_id: int, create_time: int | None) -> str:
    fields = [("ToUserName", corp_id), ("FromUserName", user), ("CreateTime", create_time or int(time.time())),
              ("MsgType", msgtype), *payload, ("AgentID", agent_id)]
    return f"<xml>{_xml(fields)}</xml>"


def app_text(text: str, *, user: str = "u001", corp_id: str, agent_id: int = 1000002, msg_id: int | None = None,
             create_time: int | None = None) -> str:
    """A text a member sends in the app's own chat."""
    payload = [("Content", text), ("MsgId", new_app_msg_id() if msg_id is None else msg_id)]
    return _app("text", payload, user=user, corp_id=corp_id, agent_id=agent_id, create_time=create_time)


def app_event(event: str = "enter_agent", *, user: str = "u001", corp_id: str, agent_id: int = 1000002,
              event_key: str = "", create_time: int | None = None) -> str:
    """An app event (enter_agent, click, ...); events carry no MsgId."""
    payload = [("Event", event), ("EventKey", event_key)]
    return _app("event", payload, user=user, corp_id=corp_id, agent_id=agent_id, create_time=create_time)


def app_other(msgtype: str = "voice", *, user: str = "u001", corp_id: str, agent_id: int = 1000002,
              msg_id: int | None = None, create_time: int | None = None, media_id: str = "MEDIA_demo_001") -> str:
    """voice (MediaId, Format amr), image (PicUrl, MediaId) or another type with only MediaId."""
    if msgtype == "voice":
        payload = [("MediaId", media_id), ("Format", "amr")]
    elif msgtype == "image":
        payload = [("PicUrl", f"http://127.0.0.1/standin/media/{media_id}.jpg"), ("MediaId", media_id)]
    else:
        payload = [("MediaId", media_id)]
    payload.append(("MsgId", new_app_msg_id() if msg_id is None else msg_id))
    return _app(msgtype, payload, user=user, corp_id=corp_id, agent_id=agent_id, create_time=create_time)
