"""Pre-generated group-robot callbacks: one encrypted, signed `@思政助手 打卡` per member, as WeCom sends them."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from wechatpy.enterprise.crypto import PrpCrypto

ROBOT_PATH = "/wecom/robot"
# the group robot signs and encrypts with an empty receiveid (the app uses the corp id)
ROBOT_RECEIVE_ID = ""
CHAT_ID = "wrkBenchGroup01"
WEBHOOK_URL = "http://127.0.0.1:9/none/webhook/send?key=bench"
CHECKIN_TEXT = "@思政助手 打卡"
CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Credentials:
    """The callback token and EncodingAESKey the bot under test is configured with."""

    token: str
    aes_key: str

    @classmethod
    def generate(cls) -> "Credentials":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return cls(token="".join(secrets.choice(alphabet) for _ in range(24)),
                   aes_key="".join(secrets.choice(alphabet) for _ in range(43)))

    def bot_env(self, workdir: Path, redis_url: str, db_url: str) -> dict[str, str]:
        """The settings of a bot under test: these credentials, so it is not in demo mode and mounts no
        stand-in, and a WeCom API address nothing listens on (benchmarks send nothing)."""
        return dict(INSTANCE_PATH=str(workdir / "instance"), REDIS_URL=redis_url, DATABASE_URL=db_url,
                    WECOM_CORP_ID="wwbench0corp", WECOM_TOKEN=self.token, WECOM_AES_KEY=self.aes_key,
                    WECOM_AGENT_ID="1000002", WECOM_SECRET="bench0secret0not0used",
                    WECOM_API_BASE="http://127.0.0.1:9/none")


@dataclass(frozen=True)
class CallbackRequest:
    """One HTTP request as the load generators send it."""

    path: str
    body: bytes


class RobotCallbacks:
    """Builds callbacks the way the WeCom platform does: encrypt the XML, then sign the ciphertext."""

    def __init__(self, creds: Credentials):
        self._token = creds.token
        # wechatpy decodes the 43-char key the same way (base64 with the missing '=' restored)
        self._prp = PrpCrypto(base64.b64decode(creds.aes_key + "="))

    def checkin(self, userid: str, name: str, msg_id: str) -> CallbackRequest:
        """A first check-in (`@思政助手 打卡`) from ``userid`` in the bench group, stamped now."""
        return self.wrap(robot_text_xml(userid, name, msg_id, CHECKIN_TEXT))

    def wrap(self, plain_xml: str) -> CallbackRequest:
        """Encrypt and sign ``plain_xml`` with a fresh timestamp and nonce."""
        encrypt = self._prp.encrypt(plain_xml, ROBOT_RECEIVE_ID).decode("ascii")
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = sign(self._token, timestamp, nonce, encrypt)
        path = f"{ROBOT_PATH}?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}"
        return CallbackRequest(path, f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode("ascii"))

    def decrypt_reply(self, body: bytes) -> str:
        """The plaintext of a passive reply (the bot's `<xml><Encrypt>…` answer); '' for an empty body."""
        if not body:
            return ""
        text = body.decode("utf-8")
        start = text.index("<Encrypt><![CDATA[") + len("<Encrypt><![CDATA[")
        encrypt = text[start:text.index("]]></Encrypt>", start)]
        plain = self._prp.decrypt(encrypt, ROBOT_RECEIVE_ID)
        return plain.decode("utf-8") if isinstance(plain, bytes) else plain


def robot_text_xml(userid: str, name: str, msg_id: str, text: str) -> str:
    """The decrypted XML of a group-robot text message (群机器人回调, MsgType text)."""
    return (
        "<xml>"
        f"<WebhookUrl><![CDATA[{WEBHOOK_URL}]]></WebhookUrl>"
        f"<MsgId><![CDATA[{msg_id}]]></MsgId>"
        f"<ChatId><![CDATA[{CHAT_ID}]]></ChatId>"
        "<ChatType><![CDATA[group]]></ChatType>"
        f"<From><UserId><![CDATA[{userid}]]></UserId><Name><![CDATA[{name}]]></Name></From>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Text><Content><![CDATA[{text}]]></Content></Text>"
        "</xml>"
    )


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom's msg_signature: sha1 over the sorted, concatenated token, timestamp, nonce and ciphertext."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode("utf-8")).hexdigest()
