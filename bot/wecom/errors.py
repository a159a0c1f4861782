"""WeCom API errors as exceptions: retryable (back off and try again) or not (investigate).

Every WeCom API answers ``{"errcode": int, "errmsg": str, ...}``; ``errcode`` 0 means success.
Tencent's own guidance is to retry only on system failure, so only the codes below (and transport
failures) are retryable. Messages carry the API path, never a URL: URLs hold the access_token or
the webhook key.
"""
from __future__ import annotations

from typing import Any

SYSTEM_BUSY = -1
FREQUENCY_LIMIT = 45009
CONCURRENCY_LIMIT = 45033
RETRYABLE_ERRCODES = frozenset({SYSTEM_BUSY, FREQUENCY_LIMIT, CONCURRENCY_LIMIT})
# the access_token was refused: drop it, fetch a new one and repeat the call once
TOKEN_ERRCODES = frozenset({40014, 42001, 42007, 42009})


class WeComError(Exception):
    """WeCom refused a call; retrying the same call will not help.

    Attributes:
        errcode: WeCom's error code, or None when there was no usable answer.
        errmsg: WeCom's message (or a short description of the transport failure).
        path: the API path called, e.g. ``message/send`` (never the full URL).
    """

    retryable = False

    def __init__(self, errcode: int | None, errmsg: str = "", path: str = ""):
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path
        super().__init__(f"WeCom {path or 'API'} failed: errcode={errcode} {errmsg}".rstrip())


class RetryableWeComError(WeComError):
    """A transient failure (busy, frequency or concurrency limit, network): back off and retry."""

    retryable = True


def error_for(errcode: int | None, errmsg: str, path: str) -> WeComError:
    """Build the exception that fits ``errcode`` (None = transport failure, retryable)."""
    if errcode is None or errcode in RETRYABLE_ERRCODES:
        return RetryableWeComError(errcode, errmsg, path)
    return WeComError(errcode, errmsg, path)


def raise_for_result(result: Any, path: str) -> dict:
    """Return ``result`` when it is a successful WeCom answer, else raise the matching error.

    Args:
        result: the decoded JSON body.
        path: the API path, for the message.

    Raises:
        RetryableWeComError: not a JSON object, or a retryable errcode.
        WeComError: any other non-zero errcode.
    """
    if not isinstance(result, dict):
        raise RetryableWeComError(None, "answer is not a JSON object", path)
    try:
        errcode = int(result.get("errcode") or 0)
    except (TypeError, ValueError):
        raise RetryableWeComError(None, f"bad errcode {result.get('errcode')!r}", path) from None
    if errcode:
        raise error_for(errcode, str(result.get("errmsg", "")), path)
    return result
