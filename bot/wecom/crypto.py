"""Callback crypto: a thin layer over wechatpy's WeChatCrypto with the receiveid of each channel."""
from __future__ import annotations

import json
import secrets
import time

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner


class CallbackRejected(Exception):
    """The callback cannot be trusted or read; ``status`` is the HTTP answer."""

    status = 400


class BadSignature(CallbackRejected):
    status = 403


class WrongReceiver(CallbackRejected):
    """Decrypted fine, but was meant for another corp or bot (receiveid mismatch, -40005)."""

    status = 403


class CallbackCrypto:
    """Verifies, decrypts and encrypts callbacks for one receiveid ("" for bots, the corp id for the app)."""

    def __init__(self, token: str, aes_key: str, receive_id: str):
        self._crypto = WeChatCrypto(token, aes_key, receive_id)
        self._prp = PrpCrypto(self._crypto.key)
        self._token = token
        self._receive_id = receive_id

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """Check a URL-verification request and return the echo plaintext."""
        self._check(signature, timestamp, nonce, echostr)
        return self._decrypt(echostr)

    def decrypt(self, encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
        """Check the signature over ``encrypt`` and return the plaintext message."""
        self._check(signature, timestamp, nonce, encrypt)
        return self._decrypt(encrypt)

    def encrypt_reply(self, plaintext: str, *, json_envelope: bool) -> bytes:
        """Encrypt a passive reply into the XML or JSON envelope WeCom expects."""
        nonce = secrets.token_hex(8)
        timestamp = str(int(time.time()))
        encrypt = self._prp.encrypt(plaintext, self._receive_id)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        signature = _sign(self._token, timestamp, nonce, encrypt)
        if json_envelope:
            envelope = {"encrypt": encrypt, "msgsignature": signature, "timestamp": int(timestamp), "nonce": nonce}
            return json.dumps(envelope).encode()
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ).encode()

    def _check(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        if not (signature and timestamp and nonce and encrypt):
            raise BadSignature("missing signature parameters")
        if not secrets.compare_digest(_sign(self._token, timestamp, nonce, encrypt), signature.lower()):
            raise BadSignature("signature mismatch")

    def _decrypt(self, encrypt: str) -> str:
        try:
            plain = self._prp.decrypt(encrypt, self._receive_id)
        except InvalidSignatureException:
            raise BadSignature("signature mismatch") from None
        except Exception as exc:  # noqa: BLE001 - wechatpy raises many kinds for garbage input
            if type(exc).__name__ == "InvalidCorpIdException":
                raise WrongReceiver("receiveid mismatch") from None
            raise CallbackRejected(f"cannot decrypt: {type(exc).__name__}") from None
        return plain.decode("utf-8") if isinstance(plain, bytes) else plain


def _sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, encrypt)
    return signer.signature
