"""Group-robot callback (群机器人回调): XML in, encrypted XML text/markdown out, receiveid ""."""
from __future__ import annotations

from xml.sax.saxutils import escape

from bot import safexml
from bot.channels import fit_bytes
from bot.messages import ChatType, Inbound, Kind, Reply
from bot.wecom.crypto import CallbackRejected

TEXT_LIMIT = 2048
MARKDOWN_LIMIT = 4096


class RobotChannel:
    name = "robot"
    json_envelope = False

    def receive_id(self, config: dict) -> str:
        return ""

    def read_envelope(self, body: bytes) -> str:
        try:
            encrypt = safexml.text_of(safexml.parse(body), "Encrypt")
        except safexml.BadXml as exc:
            raise CallbackRejected(f"bad XML envelope: {exc}") from None
        if not encrypt:
            raise CallbackRejected("no Encrypt element")
        return encrypt

    def parse(self, plaintext: str) -> Inbound | None:
        root = _parse_plain(plaintext)
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
            return Inbound(kind=Kind.TEXT, text=safexml.text_of(root, "Text/Content"), **common)
        if msg_type == "event":
            return Inbound(kind=Kind.EVENT, event=safexml.text_of(root, "Event/EventType"), **common)
        return Inbound(kind=Kind.OTHER, **common)

    def render(self, reply: Reply, inbound: Inbound, config: dict) -> str:
        mentions = "".join(f"<Item><![CDATA[{escape(u)}]]></Item>" for u in reply.mention)
        if reply.markdown:
            body = _cdata(fit_bytes(reply.text, MARKDOWN_LIMIT))
            return f"<xml><MsgType>markdown</MsgType><Markdown><Content>{body}</Content></Markdown></xml>"
        body = _cdata(fit_bytes(reply.text, TEXT_LIMIT))
        mentioned = f"<MentionedList>{mentions}</MentionedList>" if mentions else ""
        return f"<xml><MsgType>text</MsgType><Text><Content>{body}</Content>{mentioned}</Text></xml>"


def _parse_plain(plaintext: str):
    try:
        return safexml.parse(plaintext.encode("utf-8"))
    except safexml.BadXml as exc:
        raise CallbackRejected(f"bad XML message: {exc}") from None


def _cdata(text: str) -> str:
    # a literal "]]>" would end the section early; split it across two sections
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


CHANNEL = RobotChannel()
