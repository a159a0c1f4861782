"""Pure validation of send bodies: each check returns a Problem (errcode + detail) or None.

Nothing here touches Flask or Redis; whether a media_id is usable is asked through a callable,
so every rule can be unit-tested with plain dicts.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Callable

from bot.standin import codes
from bot.standin.codes import Problem
from bot.standin.media import looks_like_image

# (media_id, msgtype) -> may this sender use it?
MediaCheck = Callable[[str, str], bool]

APP_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "textcard", "news", "mpnews",
                          "markdown", "miniprogram_notice", "template_card"})
APPCHAT_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "textcard", "news", "mpnews",
                              "markdown"})
WEBHOOK_MSGTYPES = frozenset({"text", "markdown", "markdown_v2", "image", "news", "file", "voice",
                              "template_card"})
APP_CARD_TYPES = frozenset({"text_notice", "news_notice", "button_interaction", "vote_interaction",
                            "multiple_interaction"})
WEBHOOK_CARD_TYPES = frozenset({"text_notice", "news_notice"})

MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100
TEXT_BYTES = 2048
APP_MARKDOWN_BYTES = 2048
WEBHOOK_MARKDOWN_BYTES = 4096
TITLE_BYTES, DESCRIPTION_BYTES = 128, 512
BTNTXT_CHARS = 4
MAX_ARTICLES = 8
WEBHOOK_IMAGE_BYTES = 2 * 1024 * 1024


def split_ids(value: object) -> list[str]:
    """Split WeCom's ``a|b|c`` id lists, dropping empty parts and duplicates but keeping order."""
    if value is None:
        return []
    return list(dict.fromkeys(part.strip() for part in str(value).split("|") if part.strip()))


def check_agentid(body: dict, agent_id: int | None) -> Problem | None:
    """The app's agentid must be present and be this app's."""
    given = body.get("agentid")
    if given in (None, ""):
        return Problem(codes.MISSING_AGENTID, "agentid is required")
    if agent_id is None or str(given) != str(agent_id):
        return Problem(codes.INVALID_AGENTID, f"agentid {given!r} is not this app's")
    return None


def check_recipients(body: dict) -> Problem | None:
    """touser ≤1000 ids, toparty/totag ≤100 each, and at least one of the three."""
    for name in ("touser", "toparty", "totag"):
        if body.get(name) is not None and not isinstance(body[name], (str, int)):
            return Problem(codes.INVALID_PARAMETER, f"{name} must be a '|'-separated string")
    users, parties, tags = (split_ids(body.get(n)) for n in ("touser", "toparty", "totag"))
    if len(users) > MAX_USERS:
        return Problem(codes.INVALID_PARAMETER, f"touser has {len(users)} ids, max {MAX_USERS}")
    if len(parties) > MAX_PARTIES:
        return Problem(codes.TOO_MANY_PARTIES, f"toparty has {len(parties)} ids, max {MAX_PARTIES}")
    if len(tags) > MAX_TAGS:
        return Problem(codes.TOO_MANY_TAGS, f"totag has {len(tags)} ids, max {MAX_TAGS}")
    if not (users or parties or tags):
        return Problem(codes.NO_RECIPIENTS, "touser, toparty and totag are all empty")
    return None


def check_app_message(body: dict, media_ok: MediaCheck) -> Problem | None:
    """Validate the message part of a ``message/send`` body."""
    return _check_message(body, APP_MSGTYPES, media_ok, markdown_bytes=APP_MARKDOWN_BYTES,
                          card_types=APP_CARD_TYPES)


def check_appchat_message(body: dict, media_ok: MediaCheck) -> Problem | None:
    """Validate the message part of an ``appchat/send`` body."""
    return _check_message(body, APPCHAT_MSGTYPES, media_ok, markdown_bytes=APP_MARKDOWN_BYTES,
                          card_types=frozenset())


def check_webhook_message(body: dict, media_ok: MediaCheck) -> Problem | None:
    """Validate a ``webhook/send`` body."""
    return _check_message(body, WEBHOOK_MSGTYPES, media_ok, markdown_bytes=WEBHOOK_MARKDOWN_BYTES,
                          card_types=WEBHOOK_CARD_TYPES, webhook=True)


def _check_message(body: dict, allowed: frozenset, media_ok: MediaCheck, *, markdown_bytes: int,
                   card_types: frozenset, webhook: bool = False) -> Problem | None:
    msgtype = body.get("msgtype")
    if msgtype not in allowed:
        return Problem(codes.INVALID_MSGTYPE, f"msgtype {msgtype!r} is not one of {sorted(allowed)}")
    part = body.get(msgtype)
    if part is None:
        part = {}
    if not isinstance(part, dict):
        return Problem(codes.INVALID_PARAMETER, f"{msgtype} must be an object")
    if msgtype == "text":
        return _check_content(part, "text.content", TEXT_BYTES)
    if msgtype in ("markdown", "markdown_v2"):
        return _check_content(part, f"{msgtype}.content", markdown_bytes)
    if msgtype == "image" and webhook:
        return check_webhook_image(part)
    if msgtype in ("image", "voice", "video", "file"):
        return _check_media(part, msgtype, media_ok)
    if msgtype == "news":
        return _check_articles(part.get("articles"), allow_appid=not webhook)
    return _OTHER_CHECKS[msgtype](part, media_ok, card_types)


def _utf8_len(value: object) -> int:
    return len(str(value).encode("utf-8"))


def _check_content(part: dict, name: str, limit: int) -> Problem | None:
    content = part.get("content")
    if content is None or content == "":
        return Problem(codes.EMPTY_CONTENT, f"{name} is empty")
    if not isinstance(content, str):
        return Problem(codes.INVALID_PARAMETER, f"{name} must be a string")
    size = _utf8_len(content)
    if size > limit:
        return Problem(codes.CONTENT_TOO_LONG, f"{name} is {size} bytes (UTF-8), max {limit}")
    return None


def _check_size(part: dict, field: str, limit: int, where: str) -> Problem | None:
    value = part.get(field)
    if value is not None and _utf8_len(value) > limit:
        return Problem(codes.CONTENT_TOO_LONG, f"{where}.{field} is {_utf8_len(value)} bytes, max {limit}")
    return None


def _check_media(part: dict, msgtype: str, media_ok: MediaCheck) -> Problem | None:
    media_id = part.get("media_id")
    if not media_id:
        return Problem(codes.MISSING_MEDIA_ID, f"{msgtype}.media_id is required")
    if not isinstance(media_id, str) or not media_ok(media_id, msgtype):
        return Problem(codes.INVALID_MEDIA_ID,
                       f"{msgtype}.media_id was not issued to this sender as {msgtype}, or is over 3 days old")
    if msgtype == "video":
        return _check_size(part, "title", TITLE_BYTES, "video") or _check_size(
            part, "description", DESCRIPTION_BYTES, "video")
    return None


def _check_articles(articles: object, *, allow_appid: bool) -> Problem | None:
    if not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES:
        count = len(articles) if isinstance(articles, list) else 0
        return Problem(codes.TOO_MANY_ARTICLES, f"news needs 1-{MAX_ARTICLES} articles, got {count}")
    for index, article in enumerate(articles):
        where = f"news.articles[{index}]"
        if not isinstance(article, dict):
            return Problem(codes.INVALID_PARAMETER, f"{where} must be an object")
        if not article.get("title"):
            return Problem(codes.MISSING_TITLE, f"{where}.title is required")
        # app news may open a mini program instead of a URL; webhook news always needs the URL
        if not article.get("url") and not (allow_appid and article.get("appid")):
            return Problem(codes.MISSING_URL, f"{where}.url is required")
        problem = (_check_size(article, "title", TITLE_BYTES, where)
                   or _check_size(article, "description", DESCRIPTION_BYTES, where))
        if problem:
            return problem
    return None


def check_webhook_image(part: dict) -> Problem | None:
    """Webhook images travel inline: base64 of a JPG/PNG ≤2 MB plus the md5 of the raw bytes."""
    try:
        raw = base64.b64decode(part.get("base64") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        return Problem(codes.INVALID_PARAMETER, "image.base64 is not valid base64")
    if not raw:
        return Problem(codes.INVALID_PARAMETER, "image.base64 is empty")
    if str(part.get("md5", "")).lower() != hashlib.md5(raw).hexdigest():
        return Problem(codes.INVALID_PARAMETER, "image.md5 does not match the decoded image")
    if len(raw) > WEBHOOK_IMAGE_BYTES:
        return Problem(codes.INVALID_IMAGE_SIZE, f"image is {len(raw)} bytes, max {WEBHOOK_IMAGE_BYTES}")
    if not looks_like_image(raw):
        return Problem(codes.INVALID_MEDIA_TYPE, "image must be JPG or PNG")
    return None


def _check_textcard(part: dict, media_ok: MediaCheck, card_types: frozenset) -> Problem | None:
    if not part.get("title"):
        return Problem(codes.MISSING_TITLE, "textcard.title is required")
    if not part.get("description"):
        return Problem(codes.MISSING_DESCRIPTION, "textcard.description is required")
    if not part.get("url"):
        return Problem(codes.MISSING_URL, "textcard.url is required")
    btntxt = part.get("btntxt")
    if btntxt is not None and len(str(btntxt)) > BTNTXT_CHARS:
        return Problem(codes.INVALID_PARAMETER, f"textcard.btntxt is over {BTNTXT_CHARS} characters")
    return (_check_size(part, "title", TITLE_BYTES, "textcard")
            or _check_size(part, "description", DESCRIPTION_BYTES, "textcard"))


def _check_mpnews(part: dict, media_ok: MediaCheck, card_types: frozenset) -> Problem | None:
    articles = part.get("articles")
    if not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES:
        return Problem(codes.TOO_MANY_ARTICLES, f"mpnews needs 1-{MAX_ARTICLES} articles")
    for index, article in enumerate(articles):
        where = f"mpnews.articles[{index}]"
        if not isinstance(article, dict) or not article.get("title"):
            return Problem(codes.MISSING_TITLE, f"{where}.title is required")
        thumb = article.get("thumb_media_id")
        if not isinstance(thumb, str) or not media_ok(thumb, "image"):
            return Problem(codes.INVALID_MEDIA_ID, f"{where}.thumb_media_id must be an image media_id")
        if not article.get("content"):
            return Problem(codes.EMPTY_CONTENT, f"{where}.content is required")
        problem = (_check_size(article, "title", TITLE_BYTES, where)
                   or _check_size(article, "digest", DESCRIPTION_BYTES, where))
        if problem:
            return problem
    return None


def _check_miniprogram(part: dict, media_ok: MediaCheck, card_types: frozenset) -> Problem | None:
    for field in ("appid", "title"):
        if not part.get(field):
            return Problem(codes.INVALID_PARAMETER, f"miniprogram_notice.{field} is required")
    return None


def _check_card(part: dict, media_ok: MediaCheck, card_types: frozenset) -> Problem | None:
    card_type = part.get("card_type")
    if card_type not in card_types:
        return Problem(codes.INVALID_PARAMETER, f"template_card.card_type {card_type!r} not in {sorted(card_types)}")
    if card_type in ("text_notice", "news_notice") and not isinstance(part.get("card_action"), dict):
        return Problem(codes.INVALID_PARAMETER, f"template_card.card_action is required for {card_type}")
    if card_type.endswith("_interaction") and not part.get("task_id"):
        return Problem(codes.INVALID_PARAMETER, f"template_card.task_id is required for {card_type}")
    return None


_OTHER_CHECKS = {
    "textcard": _check_textcard,
    "mpnews": _check_mpnews,
    "miniprogram_notice": _check_miniprogram,
    "template_card": _check_card,
}
