"""The WeCom errcodes the stand-in answers with, their errmsg texts, and the answer envelope.

Codes and texts follow WeCom's global errcode list. Where the protocol notes are silent the
choice is marked "chosen" and explained, so a reader knows which answers are guesses.
"""
from __future__ import annotations

from dataclasses import dataclass

OK = 0
INVALID_SECRET = 40001
INVALID_MEDIA_TYPE = 40004       # file content is not what the type needs (not AMR, not JPG/PNG, not MP4)
INVALID_TYPE = 40005             # the upload's ?type= is not one this endpoint takes
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_IMAGE_SIZE = 40009       # chosen: webhook image over 2 MB decoded
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058        # also the answer for more than 1000 touser ids (40032 is the alternative)
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
MISSING_MEDIA_ID = 41006
MISSING_URL = 41010
MISSING_AGENTID = 41011
MISSING_TITLE = 41016
MISSING_DESCRIPTION = 41033
TOKEN_EXPIRED = 42001
EMPTY_MEDIA = 44001
EMPTY_CONTENT = 44004
MEDIA_TOO_BIG = 45001
CONTENT_TOO_LONG = 45002
VOICE_TOO_LONG = 45007
TOO_MANY_ARTICLES = 45008
FREQ_LIMIT = 45009
ALL_RECIPIENTS_INVALID = 81013
NO_RECIPIENTS = 82001
TOO_MANY_PARTIES = 82002
TOO_MANY_TAGS = 82003
CHAT_NOT_EXIST = 86003
INVALID_WEBHOOK = 93000
UNEXPECTED_CALL = 404            # not WeCom's: a call the real API would not understand either

ERRMSG = {
    OK: "ok",
    INVALID_SECRET: "invalid credential",
    INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_TYPE: "invalid type",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_IMAGE_SIZE: "invalid image size",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid Request Parameter",
    MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing",
    MISSING_SECRET: "corpsecret missing",
    MISSING_MEDIA_ID: "media_id missing",
    MISSING_URL: "url missing",
    MISSING_AGENTID: "agentid missing",
    MISSING_TITLE: "title missing",
    MISSING_DESCRIPTION: "description missing",
    TOKEN_EXPIRED: "access_token expired",
    EMPTY_MEDIA: "empty media data",
    EMPTY_CONTENT: "empty content",
    MEDIA_TOO_BIG: "media size out of limit",
    CONTENT_TOO_LONG: "content size out of limit",
    VOICE_TOO_LONG: "voice playtime out of limit",
    TOO_MANY_ARTICLES: "article size out of limit",
    FREQ_LIMIT: "api freq out of limit",
    ALL_RECIPIENTS_INVALID: "user & party & tag all invalid",
    NO_RECIPIENTS: "All touser & toparty & totag invalid",
    TOO_MANY_PARTIES: "invalid party list size",
    TOO_MANY_TAGS: "invalid tag list size",
    CHAT_NOT_EXIST: "chat not exist",
    INVALID_WEBHOOK: "invalid webhook url",
    UNEXPECTED_CALL: "unexpected call",
}


@dataclass(frozen=True)
class Problem:
    """Why a request is refused: the WeCom errcode plus a detail for the developer reading it."""

    code: int
    detail: str = ""


def answer(code: int, detail: str = "", **fields) -> dict:
    """Build a WeCom-style JSON answer.

    Args:
        code: the errcode.
        detail: appended to the errmsg as ``(standin: ...)`` so a failing test says why.
        **fields: extra keys of a successful answer (``msgid``, ``media_id``...).

    Returns:
        ``{"errcode": code, "errmsg": ..., **fields}``.
    """
    errmsg = ERRMSG.get(code, "scripted error")
    if detail:
        errmsg = f"{errmsg} (standin: {detail})"
    return {"errcode": code, "errmsg": errmsg, **fields}


def refuse(problem: Problem) -> dict:
    """Turn a Problem into the answer WeCom would give."""
    return answer(problem.code, problem.detail)
