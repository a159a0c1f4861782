"""The group push webhook (消息推送, formerly 群机器人): ``webhook/send`` and ``webhook/upload_media``.

wechatpy has no webhook helper, so this is plain requests. The key in the query string is the only
credential: log lines and exceptions name the path, never the URL.
"""
from __future__ import annotations

import json

import requests

from bot.wecom.errors import RetryableWeComError, raise_for_result

TIMEOUT_S = (5.0, 15.0)   # connect, read


class WebhookClient:
    """Sends to group webhooks under one API base.

    Args:
        api_base: ``WECOM_API_BASE`` (no trailing slash).
        timeout: requests timeout for every call.
        session: a requests session to reuse (one is created when omitted).
    """

    def __init__(self, api_base: str, *, timeout: float | tuple[float, float] = TIMEOUT_S,
                 session: requests.Session | None = None):
        self._base = api_base.rstrip("/")
        self._timeout = timeout
        self._http = session or requests.Session()

    def send(self, key: str, payload: dict) -> dict:
        """POST one message (``{"msgtype": ..., <msgtype>: {...}}``) to the webhook ``key``.

        Raises:
            RetryableWeComError: network failure or -1/45009/45033.
            WeComError: any other errcode (e.g. 93000 webhook removed).
        """
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self._post("webhook/send", {"key": key}, data=body,
                          headers={"Content-Type": "application/json; charset=utf-8"})

    def upload_media(self, key: str, kind: str, filename: str, data: bytes) -> str:
        """Upload a ``file`` or ``voice`` for this webhook only; returns its media_id (valid 3 days)."""
        result = self._post("webhook/upload_media", {"key": key, "type": kind},
                            files={"media": (filename, data)})
        return str(result["media_id"])

    def _post(self, path: str, params: dict, **kwargs) -> dict:
        try:
            res = self._http.post(f"{self._base}/{path}", params=params, timeout=self._timeout, **kwargs)
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            # requests' messages include the URL, hence the key: keep only the type
            raise RetryableWeComError(None, type(exc).__name__, path) from None
        return raise_for_result(result, path)
