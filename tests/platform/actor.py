"""WeComPlatform: plays WeCom against the bot's three callback endpoints and reads its passive replies."""
from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import NamedTuple

from tests.platform import messages
from tests.platform.crypto import PlatformCrypto

PATHS = {"aibot": "/wecom/aibot", "robot": "/wecom/robot", "app": "/wecom/app"}
JSON_CHANNELS = {"aibot"}
CONTENT_TYPES = {True: "application/json", False: "text/xml"}


@dataclass(frozen=True)
class HttpResponse:
    """What came back over the wire, the same shape for a Flask test client and real HTTP."""

    status: int
    body: bytes
    headers: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Verification(NamedTuple):
    response: HttpResponse
    echo: str        # the plain echo the bot must answer with, byte for byte


@dataclass(frozen=True)
class Reply:
    """A passive reply, decrypted and checked; ``plaintext``/``text`` are None for an empty 200 or an error."""

    status: int
    plaintext: str | None
    text: str | None
    raw: HttpResponse
    msgtype: str | None = None
    data: dict | None = None            # the JSON reply (smart bot)
    xml: ET.Element | None = None       # the XML reply (robot, app)

    @property
    def empty(self) -> bool:
        return self.status == 200 and self.plaintext is None


class WeComPlatform:
    """Speaks to ``/wecom/{aibot,robot,app}`` as WeCom would.

    Args:
        token, aes_key, corp_id: the callback credentials the bot was configured with.
        client: a Flask test client; or
        base_url: e.g. ``http://127.0.0.1:8123`` to go over real HTTP with requests.
    """

    def __init__(self, *, token: str, aes_key: str, corp_id: str, client=None, base_url: str | None = None):
        if (client is None) == (base_url is None):
            raise ValueError("pass exactly one of client= or base_url=")
        self.corp_id = corp_id
        self.client, self.base_url = client, (base_url or "").rstrip("/")
        self.crypto = {
            "aibot": PlatformCrypto(token, aes_key, ""),
            "robot": PlatformCrypto(token, aes_key, ""),
            "app": PlatformCrypto(token, aes_key, corp_id),
        }

    # ---- transport ----

    def _request(self, method: str, path: str, *, query: dict, body: bytes | None = None,
                 content_type: str | None = None) -> HttpResponse:
        if self.client is not None:
            resp = self.client.open(path, method=method, query_string=query, data=body, content_type=content_type)
            return HttpResponse(resp.status_code, resp.get_data(), dict(resp.headers))
        import requests

        headers = {"Content-Type": content_type} if content_type else {}
        resp = requests.request(method, self.base_url + path, params=query, data=body, headers=headers, timeout=10)
        return HttpResponse(resp.status_code, resp.content, dict(resp.headers))

    # ---- protocol steps ----

    def verify(self, channel: str, *, echo: str | None = None, query_overrides: dict | None = None) -> Verification:
        """The GET WeCom sends when the URL is saved; the bot must answer ``echo`` exactly."""
        echo = echo or str(secrets.randbelow(10**19))
        query = self.crypto[channel].verify_url_params(echo) | (query_overrides or {})
        return Verification(self._request("GET", PATHS[channel], query=query), echo)

    def send(self, channel: str, plaintext: str, *, query_overrides: dict | None = None,
             body_override: bytes | None = None) -> HttpResponse:
        """Encrypt, sign and POST one callback; overrides let a test tamper with either part."""
        json_envelope = channel in JSON_CHANNELS
        query, body = self.crypto[channel].callback(plaintext, json_envelope=json_envelope)
        query |= query_overrides or {}
        body = body if body_override is None else body_override
        return self._request("POST", PATHS[channel], query=query, body=body,
                             content_type=CONTENT_TYPES[json_envelope])

    def open(self, channel: str, response: HttpResponse) -> Reply:
        """Decrypt and check a callback response; AssertionError if WeCom would reject the reply."""
        if response.status != 200 or not response.body.strip():
            return Reply(response.status, None, None, response)
        json_envelope = channel in JSON_CHANNELS
        plaintext = self.crypto[channel].open_reply(response.body, json_envelope=json_envelope)
        if json_envelope:
            data = json.loads(plaintext)
            return Reply(200, plaintext, _json_text(data), response, msgtype=data.get("msgtype"), data=data)
        root = ET.fromstring(plaintext.encode("utf-8"))
        return Reply(200, plaintext, _xml_text(root), response, msgtype=root.findtext("MsgType"), xml=root)

    def deliver(self, channel: str, plaintext: str) -> Reply:
        return self.open(channel, self.send(channel, plaintext))

    # ---- as a member ----

    def say(self, text: str, *, channel: str = "robot", user: str = "u001", chattype: str = "group",
            msg_id=None, **kw) -> Reply:
        """Send a text as ``user``; ``kw`` goes to the factory (name=, chat=, webhook_url=, agent_id=...)."""
        if channel == "app":
            plaintext = messages.app_text(text, user=user, corp_id=self.corp_id, msg_id=msg_id, **kw)
        elif channel == "robot":
            plaintext = messages.robot_text(text, user=user, chattype=chattype, msg_id=msg_id, **kw)
        else:
            plaintext = messages.aibot_text(text, user=user, chattype=chattype, msg_id=msg_id, **kw)
        return self.deliver(channel, plaintext)

    def event(self, kind: str, *, channel: str = "app", user: str = "u001", **kw) -> Reply:
        """enter_agent (app), enter_chat (aibot), add_to_chat/delete_from_chat/enter_chat (robot)."""
        if channel == "app":
            plaintext = messages.app_event(kind, user=user, corp_id=self.corp_id, **kw)
        elif channel == "robot":
            plaintext = messages.robot_event(kind, user=user, **kw)
        else:
            plaintext = messages.aibot_event(kind, user=user, corp_id=self.corp_id, **kw)
        return self.deliver(channel, plaintext)

    def refresh_stream(self, stream_id: str, *, user: str = "u001", **kw) -> Reply:
        """The smart bot's follow-up POST asking for more of an unfinished stream."""
        return self.deliver("aibot", messages.aibot_stream_refresh(stream_id, user=user, **kw))


def _json_text(data: dict) -> str | None:
    for key in ("stream", "text", "markdown"):
        if isinstance(data.get(key), dict) and data[key].get("content") is not None:
            return data[key]["content"]
    card = data.get("template_card")
    if isinstance(card, dict):
        return (card.get("main_title") or {}).get("title")
    return None


def _xml_text(root: ET.Element) -> str | None:
    for path in ("Text/Content", "Markdown/Content", "Content"):
        if root.find(path) is not None:
            return root.findtext(path)
    titles = [t.text or "" for t in root.iterfind("Articles/item/Title")]
    return "\n".join(titles) if titles else None
