"""Smart bot (智能机器人) API mode: JSON in, encrypted JSON stream/text out, receiveid ""."""
from __future__ import annotations

import json

from bot.channels import fit_bytes
from bot.messages import ChatType, Inbound, Kind, Reply
from bot.textnorm import strip_mentions
from bot.wecom.crypto import CallbackRejected

STREAM_LIMIT = 20480


class AibotChannel:
    name = "aibot"
    json_envelope = True

    def receive_id(self, config: dict) -> str:
        return ""

    def read_envelope(self, body: bytes) -> str:
        data = _load(body)
        encrypt = data.get("encrypt") if isinstance(data, dict) else None
        if not isinstance(encrypt, str) or not encrypt:
            raise CallbackRejected("no encrypt field")
        return encrypt

    def parse(self, plaintext: str) -> Inbound | None:
        data = _load(plaintext)
        if not isinstance(data, dict):
            raise CallbackRejected("message is not a JSON object")
        msg_type, msg_id = data.get("msgtype"), data.get("msgid")
        sender = (data.get("from") or {}).get("userid", "") if isinstance(data.get("from"), dict) else ""
        if not isinstance(msg_type, str) or not isinstance(msg_id, str) or not msg_id:
            raise CallbackRejected("aibot message without msgid or msgtype")
        chat_type = ChatType.GROUP if data.get("chattype") == "group" else ChatType.SINGLE
        common = dict(channel=self.name, msg_id=msg_id, sender_id=str(sender),
                      chat_id=str(data.get("chatid") or sender), chat_type=chat_type,
                      route={"response_url": data.get("response_url", ""), "aibotid": data.get("aibotid", "")})
        if msg_type == "text":
            text = (data.get("text") or {}).get("content", "") if isinstance(data.get("text"), dict) else ""
            return Inbound(kind=Kind.TEXT, text=strip_mentions(str(text)), **common)
        if msg_type == "event":
            event = data.get("event") if isinstance(data.get("event"), dict) else {}
            return Inbound(kind=Kind.EVENT, event=str(event.get("eventtype", "")), **common)
        return Inbound(kind=Kind.OTHER, **common)

    def render(self, reply: Reply, inbound: Inbound, config: dict) -> str:
        content = fit_bytes(reply.text, STREAM_LIMIT)
        if inbound.kind is Kind.EVENT:
            # the enter_chat welcome is the one place a plain text reply is allowed
            return json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False)
        stream = {"id": f"s-{inbound.msg_id}", "finish": True, "content": content}
        return json.dumps({"msgtype": "stream", "stream": stream}, ensure_ascii=False)


def _load(data: bytes | str):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected("malformed JSON") from None


CHANNEL = AibotChannel()
