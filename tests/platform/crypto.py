"""The platform's callback crypto (wecom-protocol.md §1), built on `cryptography`'s AES primitives only."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not to the AES block size of 16


def cdata(value: str) -> str:
    # "]]>" cannot appear inside one CDATA section; split it across two
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml_field(xml: str, name: str) -> str:
    try:
        return ET.fromstring(xml.encode("utf-8")).findtext(name) or ""
    except ET.ParseError:  # tests may encrypt deliberately broken plaintext
        return ""


class PlatformCrypto:
    """Encrypts callbacks and opens passive replies the way WeCom does.

    Args:
        token: the callback Token.
        aes_key: the 43-character EncodingAESKey.
        receiveid: corp id for a self-built app, "" for the group robot and the smart bot.
    """

    def __init__(self, token: str, aes_key: str, receiveid: str):
        self.token = token
        self.key = base64.b64decode(aes_key + "=")
        assert len(self.key) == 32, "EncodingAESKey must decode to 32 bytes"
        self.receiveid = receiveid

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        joined = "".join(sorted([self.token, str(timestamp), str(nonce), encrypt]))
        return hashlib.sha1(joined.encode("utf-8")).hexdigest()

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        random16 = os.urandom(16) if random16 is None else random16
        assert len(random16) == 16
        msg = plaintext.encode("utf-8")
        data = random16 + struct.pack(">I", len(msg)) + msg + self.receiveid.encode("utf-8")
        pad = BLOCK - len(data) % BLOCK
        data += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> tuple[str, str]:
        """Return (msg, receiveid); raise AssertionError on a malformed ciphertext."""
        raw = base64.b64decode(encrypt, validate=True)
        assert raw and len(raw) % 16 == 0, "ciphertext is not whole AES blocks"
        decryptor = self._cipher().decryptor()
        data = decryptor.update(raw) + decryptor.finalize()
        pad = data[-1]
        assert 1 <= pad <= BLOCK and data[-pad:] == bytes([pad]) * pad, "bad PKCS#7 padding (block size 32)"
        data = data[:-pad]
        (length,) = struct.unpack(">I", data[16:20])
        assert 20 + length <= len(data), "message length runs past the plaintext"
        return data[20:20 + length].decode("utf-8"), data[20 + length:].decode("utf-8")

    def verify_url_params(self, echo_plain: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict:
        """Query parameters of the GET that WeCom sends when the callback URL is saved."""
        timestamp, nonce = timestamp or str(int(time.time())), nonce or _nonce()
        echostr = self.encrypt(echo_plain)
        return {"msg_signature": self.sign(timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce,
                "echostr": echostr}

    def callback(self, plaintext: str, *, json_envelope: bool, timestamp: str | None = None,
                 nonce: str | None = None) -> tuple[dict, bytes]:
        """Encrypt a callback: (query params for the POST, request body).

        The envelope is JSON ``{"encrypt"}`` for the smart bot, XML with ToUserName/AgentID for an app
        (receiveid is a corp id) and bare ``<xml><Encrypt>`` for the group robot.
        """
        timestamp, nonce = timestamp or str(int(time.time())), nonce or _nonce()
        encrypt = self.encrypt(plaintext)
        query = {"msg_signature": self.sign(timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce}
        if json_envelope:
            return query, json.dumps({"encrypt": encrypt}).encode("utf-8")
        if self.receiveid:
            agent_id = _xml_field(plaintext, "AgentID")
            body = (f"<xml><ToUserName>{cdata(self.receiveid)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt>"
                    f"<AgentID>{cdata(agent_id)}</AgentID></xml>")
        else:
            body = f"<xml><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return query, body.encode("utf-8")

    def seal_reply(self, plaintext: str, *, json_envelope: bool, timestamp: str | None = None,
                   nonce: str | None = None) -> bytes:
        """The reverse direction, for fakes that play the bot: a signed passive-reply envelope."""
        timestamp, nonce = timestamp or str(int(time.time())), nonce or _nonce()
        encrypt = self.encrypt(plaintext)
        signature = self.sign(timestamp, nonce, encrypt)
        if json_envelope:
            envelope = {"encrypt": encrypt, "msgsignature": signature, "timestamp": int(timestamp), "nonce": nonce}
            return json.dumps(envelope).encode("utf-8")
        return (f"<xml><Encrypt>{cdata(encrypt)}</Encrypt><MsgSignature>{cdata(signature)}</MsgSignature>"
                f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>").encode("utf-8")

    def open_reply(self, body: bytes, *, json_envelope: bool) -> str:
        """Check and decrypt a passive reply; AssertionError if WeCom would reject it."""
        if json_envelope:
            envelope = json.loads(body)
            assert isinstance(envelope, dict), f"reply envelope is not a JSON object: {body[:80]!r}"
            fields = [envelope.get(k) for k in ("encrypt", "msgsignature", "timestamp", "nonce")]
        else:
            assert b"<!DOCTYPE" not in body.upper(), "reply XML carries a DOCTYPE"
            root = ET.fromstring(body)
            assert root.tag == "xml", f"reply root is <{root.tag}>, expected <xml>"
            fields = [root.findtext(k) for k in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")]
        assert all(f not in (None, "") for f in fields), f"reply envelope lacks a field: {body[:200]!r}"
        encrypt, signature, timestamp, nonce = (str(f) for f in fields)
        assert self.sign(timestamp, nonce, encrypt) == signature, "reply signature does not match"
        msg, receiveid = self.decrypt(encrypt)
        assert receiveid == self.receiveid, f"reply receiveid {receiveid!r} != {self.receiveid!r}"
        return msg


def _nonce() -> str:
    return str(secrets.randbelow(10**10))
