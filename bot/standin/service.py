"""What each stand-in API does once the request is parsed: validate, limit, record, answer.

Functions take plain values and return the JSON answer as a dict; HTTP stays in api.py.
"""
from __future__ import annotations

import secrets

from bot.standin import checks, codes, media, ratelimit, records, scenario, store

APP_UPLOAD_TYPES = frozenset({"image", "voice", "video", "file"})
WEBHOOK_UPLOAD_TYPES = frozenset({"file", "voice"})


def _app_media(media_id: str, msgtype: str) -> bool:
    # media/upload media is shared by the corp's apps, but a robot's upload is not
    return store.media_usable(media_id, msgtype, "app")


def send_app(body: dict, *, agent_id: int | None) -> dict:
    """``message/send``: one record per member; members over 30/min or 1000/h are dropped silently."""
    problem = (checks.check_agentid(body, agent_id) or checks.check_recipients(body)
               or checks.check_app_message(body, _app_media))
    if problem:
        return codes.refuse(problem)
    valid, invalid = _resolve_users(checks.split_ids(body.get("touser")))
    parties, tags = checks.split_ids(body.get("toparty")), checks.split_ids(body.get("totag"))
    if not valid:
        # the stand-in has no departments or tags, so only members can be valid
        return codes.answer(codes.ALL_RECIPIENTS_INVALID, "no valid touser (toparty/totag are not modelled)")
    msgid = secrets.token_urlsafe(24)
    allowed = ratelimit.allow_many([f"app:{userid}" for userid in valid], ratelimit.APP_MEMBER_LIMITS)
    records.add_messages(via="app", recipients=valid, msgtype=body["msgtype"], body=body,
                         dropped=[not ok for ok in allowed], msgid=msgid)
    return codes.answer(codes.OK, invaliduser="|".join(invalid), invalidparty="|".join(parties),
                        invalidtag="|".join(tags), msgid=msgid)


def _resolve_users(userids: list[str]) -> tuple[list[str], list[str]]:
    """Split userids into (valid, invalid) against the roster; ``@all`` means the whole roster."""
    roster = scenario.roster()
    if not roster:
        return userids, []
    if "@all" in userids:
        return sorted(roster), []
    return [u for u in userids if u in roster], [u for u in userids if u not in roster]


def send_appchat(body: dict) -> dict:
    """``appchat/send``: only to chats created (through control) for this app."""
    chatid = body.get("chatid")
    if not isinstance(chatid, str) or not scenario.appchat_exists(chatid):
        return codes.answer(codes.CHAT_NOT_EXIST, f"chatid {chatid!r} was not created by this app")
    problem = checks.check_appchat_message(body, _app_media)
    if problem:
        return codes.refuse(problem)
    records.add_message(via="appchat", chat=chatid, msgtype=body["msgtype"], body=body)
    return codes.answer(codes.OK)


def send_webhook(webhook_key: str, body: dict, *, configured: dict[str, str]) -> dict:
    """``webhook/send``: 20 messages a minute per robot, and the 21st is refused with 45009."""
    chat = scenario.webhook_chat(webhook_key, configured) if webhook_key else None
    if chat is None:
        return codes.answer(codes.INVALID_WEBHOOK, "unknown webhook key")
    owner = f"webhook:{webhook_key}"
    problem = checks.check_webhook_message(body, lambda mid, kind: store.media_usable(mid, kind, owner))
    if problem:
        return codes.refuse(problem)
    if not ratelimit.allow(owner, ratelimit.WEBHOOK_LIMITS):
        return codes.answer(codes.FREQ_LIMIT, "over 20 messages a minute for this robot")
    records.add_message(via="webhook", chat=chat, msgtype=body["msgtype"], body=body)
    return codes.answer(codes.OK)


def upload(kind: str, filename: str | None, data: bytes | None, *, owner: str, allowed: frozenset,
           owner_known: bool = True) -> dict:
    """``media/upload`` and ``webhook/upload_media``: check the file, store it for 3 days.

    Args:
        kind: the ``?type=`` of the call.
        filename: the multipart filename (None when the part had none).
        data: the ``media`` part's bytes (None when there was no such part).
        owner: ``app`` or ``webhook:<key>``; only the owner may send the media_id.
        allowed: the types this endpoint takes.
        owner_known: False for an unknown webhook key; answered 93000, but only after the file
            checks, because WeCom appears to look at the file first (protocol notes, unconfirmed).

    Returns:
        ``{errcode, errmsg, type, media_id, created_at}`` with created_at as a string, as WeCom does.
    """
    if kind not in allowed:
        return codes.answer(codes.INVALID_TYPE, f"type must be one of {sorted(allowed)}")
    if data is None or not filename:
        return codes.answer(codes.EMPTY_MEDIA, "send the file as multipart field 'media' with a filename")
    problem = media.check_upload(kind, data)
    if problem:
        return codes.refuse(problem)
    if not owner_known:
        return codes.answer(codes.INVALID_WEBHOOK, "unknown webhook key")
    saved = store.save_media(kind, data, filename=filename, owner=owner)
    return codes.answer(codes.OK, type=kind, media_id=saved.media_id, created_at=str(saved.created_at))
