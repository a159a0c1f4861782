"""The stand-in's logs: every message it accepted (or silently dropped) and every unexpected call."""
from __future__ import annotations

import json
import time

from bot.redis_store import get_redis
from bot.standin.store import key

MAX_MESSAGES = 5000        # a long demo session must not grow Redis without bound
MAX_VIOLATIONS = 1000
BODY_PREVIEW_BYTES = 2000


def add_message(*, via: str, msgtype: str, body: dict, recipient: str | None = None,
                chat: str | None = None, dropped: bool = False, msgid: str | None = None) -> dict:
    """Record one delivered (or dropped) message.

    Args:
        via: ``app``, ``appchat`` or ``webhook``.
        msgtype: the message type.
        body: the JSON the client sent, as parsed.
        recipient: the member's userid (app sends: one record per member).
        chat: the appchat chatid, or the chat name of the webhook's robot.
        dropped: True when WeCom would have silently dropped it (member over the rate limit).
        msgid: the msgid answered to the client (app sends).

    Returns:
        The record as stored.
    """
    return add_messages(via=via, msgtype=msgtype, body=body, recipients=[recipient], chat=chat,
                        dropped=[dropped], msgid=msgid)[0]


def add_messages(*, via: str, msgtype: str, body: dict, recipients: list[str | None], dropped: list[bool],
                 chat: str | None = None, msgid: str | None = None) -> list[dict]:
    """Record one message to several recipients (one record each, as ``add_message``) in two round trips.

    An app send's record keeps the body as that member received it: ``touser`` is his own id, not the
    whole list (a 1000-member send would otherwise store the 1000 ids a thousand times).
    """
    redis = get_redis()
    last = int(redis.incrby(key("message_seq"), len(recipients)))
    now = time.time()
    records = [{"id": last - len(recipients) + 1 + n, "via": via, "recipient": recipient, "chat": chat,
                "msgtype": msgtype, "body": _as_received(body, recipient), "dropped": was_dropped, "msgid": msgid,
                "time": now}
               for n, (recipient, was_dropped) in enumerate(zip(recipients, dropped))]
    # the rest of the body is the same for every recipient: encode it once, not once per member
    shared_json = json.dumps({k: v for k, v in body.items() if k != "touser"}, ensure_ascii=False)
    encoded = [json.dumps({k: v for k, v in record.items() if k != "body"}, ensure_ascii=False)[:-1]
               + ', "body": ' + _body_json(record["body"], shared_json) + "}" for record in records]
    with redis.pipeline() as pipe:
        pipe.rpush(key("messages"), *encoded)
        pipe.ltrim(key("messages"), -MAX_MESSAGES, -1)
        pipe.execute()
    return records


def _as_received(body: dict, recipient: str | None) -> dict:
    if recipient is None or "touser" not in body:
        return body
    return {**body, "touser": recipient}


def _body_json(body: dict, shared_json: str) -> str:
    """``body`` as JSON, given the JSON of everything in it but ``touser``."""
    if "touser" not in body:
        return shared_json
    rest = ", " + shared_json[1:] if shared_json != "{}" else "}"
    return '{"touser": ' + json.dumps(body["touser"], ensure_ascii=False) + rest


def list_messages(*, recipient: str | None = None, chat: str | None = None, via: str | None = None,
                  since_id: int | None = None) -> list[dict]:
    """Recorded messages, oldest first, narrowed by whichever filters are given."""
    records = [json.loads(raw) for raw in get_redis().lrange(key("messages"), 0, -1)]
    return [r for r in records
            if (recipient is None or r["recipient"] == recipient)
            and (chat is None or r["chat"] == chat)
            and (via is None or r["via"] == via)
            and (since_id is None or r["id"] > since_id)]


def clear_messages() -> None:
    """Forget every recorded message."""
    get_redis().delete(key("messages"))


def add_violation(*, method: str, path: str, query: str, body: bytes) -> dict:
    """Record a call the real WeCom API would not understand, so a test can fail on it."""
    redis = get_redis()
    record = {"id": int(redis.incr(key("violation_seq"))), "method": method, "path": path, "query": query,
              "body": body[:BODY_PREVIEW_BYTES].decode("utf-8", "replace"), "time": time.time()}
    with redis.pipeline() as pipe:
        pipe.rpush(key("violations"), json.dumps(record, ensure_ascii=False))
        pipe.ltrim(key("violations"), -MAX_VIOLATIONS, -1)
        pipe.execute()
    return record


def list_violations() -> list[dict]:
    """Recorded unexpected calls, oldest first."""
    return [json.loads(raw) for raw in get_redis().lrange(key("violations"), 0, -1)]


def clear_violations() -> None:
    """Forget every recorded violation."""
    get_redis().delete(key("violations"))
