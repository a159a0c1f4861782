"""Group-robot callback (群机器人回调): XML in, encrypted XML text/markdown out, receiveid ""."""
from __future__ import annotations

from bot import safexml
from bot.channels import cdata, fit_bytes, parse_xml_plaintext, read_xml_envelope
from bot.messages import ChatType, Inbound, Kind, Reply
from bot.textnorm import strip_mentions
from bot.wecom.crypto import CallbackRejected

TEXT_LIMIT = 2048
MARKDOWN_LIMIT = 4096


class RobotChannel:
    name = "robot"
    json_envelope = False

    def receive_id(self, config: dict) -> str:
        return ""

    def read_envelope(self, body: bytes) -> str:
        return read_xml_envelope(body)

    def parse(self, plaintext: str) -> Inbound | None:
        root = parse_xml_plaintext(plaintext)
        msg_type = safexml.text_of(root, "MsgType")
        msg_id = safexml.text_of(root, "MsgId")
        sender = safexml.text_of(root, "From/UserId")
        if not msg_id or not msg_type:
            raise CallbackRejected("robot message without MsgId or MsgType")
        chat_type = ChatType.GROUP if safexml.text_of(root, "ChatType") == "group" else ChatType.SINGLE
        common = dict(
            channel=self.name, msg_id=msg_id, sender_id=sender, sender_name=safexml.text_of(root, "From/Name"),
            chat_id=safexml.text_of(root, "ChatId") or sender, chat_type=chat_type,
            route={"webhook_url": safexml.text_of(root, "WebhookUrl")},
        )
        if msg_type == "text":
            return Inbound(kind=Kind.TEXT, text=strip_mentions(safexml.text_of(root, "Text/Content")), **common)
        if msg_type == "event":
            return Inbound(kind=Kind.EVENT, event=safexml.text_of(root, "Event/EventType"), **common)
        return Inbound(kind=Kind.OTHER, **common)

    def render(self, reply: Reply, inbound: Inbound, config: dict) -> str:
        # in a group, @ the person who asked so the answer reaches them among everyone's messages
        mentioned_ids = reply.mention or ((inbound.sender_id,) if inbound.is_group else ())
        mentions = "".join(f"<Item>{cdata(u)}</Item>" for u in mentioned_ids)
        if reply.markdown:
            body = cdata(fit_bytes(reply.text, MARKDOWN_LIMIT))
            return f"<xml><MsgType>markdown</MsgType><Markdown><Content>{body}</Content></Markdown></xml>"
        body = cdata(fit_bytes(reply.text, TEXT_LIMIT))
        mentioned = f"<MentionedList>{mentions}</MentionedList>" if mentions else ""
        return f"<xml><MsgType>text</MsgType><Text><Content>{body}</Content>{mentioned}</Text></xml>"


CHANNEL = RobotChannel()
