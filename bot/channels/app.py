"""Self-built app callback (自建应用): XML in, encrypted XML text out, receiveid = corp id."""
from __future__ import annotations

import time
from xml.sax.saxutils import escape

from bot import safexml
from bot.channels import cdata, fit_bytes, parse_xml_plaintext, read_xml_envelope
from bot.messages import ChatType, Inbound, Kind, Reply
from bot.wecom.crypto import CallbackRejected

CONTENT_LIMIT = 2048


class AppChannel:
    name = "app"
    json_envelope = False

    def receive_id(self, config: dict) -> str:
        return config["WECOM_CORP_ID"]

    def read_envelope(self, body: bytes) -> str:
        return read_xml_envelope(body)

    def parse(self, plaintext: str) -> Inbound | None:
        root = parse_xml_plaintext(plaintext)
        msg_type = safexml.text_of(root, "MsgType")
        sender = safexml.text_of(root, "FromUserName")
        if not msg_type or not sender:
            raise CallbackRejected("app message without MsgType or FromUserName")
        # events carry no MsgId: WeCom's own advice is FromUserName + CreateTime
        msg_id = safexml.text_of(root, "MsgId") or f"{sender}:{safexml.text_of(root, 'CreateTime')}"
        common = dict(channel=self.name, msg_id=msg_id, sender_id=sender, chat_id=sender,
                      chat_type=ChatType.SINGLE, route={"agent_id": safexml.text_of(root, "AgentID")})
        if msg_type == "text":
            return Inbound(kind=Kind.TEXT, text=safexml.text_of(root, "Content"), **common)
        if msg_type == "event":
            return Inbound(kind=Kind.EVENT, event=safexml.text_of(root, "Event").lower(), **common)
        return Inbound(kind=Kind.OTHER, **common)

    def render(self, reply: Reply, inbound: Inbound, config: dict) -> str:
        # the app's passive reply has text only; markdown goes out as its plain source
        content = cdata(fit_bytes(reply.text, CONTENT_LIMIT))
        return (
            f"<xml><ToUserName><![CDATA[{escape(inbound.sender_id)}]]></ToUserName>"
            f"<FromUserName><![CDATA[{escape(config['WECOM_CORP_ID'])}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
            f"<Content>{content}</Content></xml>"
        )


CHANNEL = AppChannel()
