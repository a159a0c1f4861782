"""What tests script through ``/standin/_control``: latency, queued faults, roster, chats, robots, stats."""
from __future__ import annotations

import json

from bot.redis_store import get_redis
from bot.standin.store import key


def normalise_path(path: str) -> str:
    """``/cgi-bin/message/send`` and ``message/send`` name the same API."""
    path = path.strip().strip("/")
    for prefix in ("standin/", "cgi-bin/"):
        if path.startswith(prefix):
            path = path[len(prefix):]
    return path


# --- latency ---------------------------------------------------------------------------------

def latency_ms() -> int:
    """Milliseconds every API call waits before answering."""
    return int(get_redis().get(key("latency_ms")) or 0)


def set_latency_ms(value: int) -> None:
    """Delay every later API call by ``value`` milliseconds (0 turns it off)."""
    get_redis().set(key("latency_ms"), int(value))


# --- scripted faults -------------------------------------------------------------------------

def queue_faults(faults: list[dict]) -> None:
    """Append ``{"path", "errcode", "errmsg"?}`` entries, each answered once by the next matching call."""
    entries = [json.dumps({**fault, "path": normalise_path(fault["path"])}, sort_keys=True) for fault in faults]
    if entries:
        get_redis().rpush(key("faults"), *entries)


def pop_fault(path: str) -> dict | None:
    """Take the oldest queued fault for ``path``, if any.

    LREM removes exactly the entry we read, so when two workers race for the same fault only
    one of them gets it; the loser simply looks again.
    """
    redis, path = get_redis(), normalise_path(path)
    while True:
        raw = next((e for e in redis.lrange(key("faults"), 0, -1) if json.loads(e)["path"] == path), None)
        if raw is None:
            return None
        if redis.lrem(key("faults"), 1, raw):
            return json.loads(raw)


def pending_faults() -> list[dict]:
    """Queued faults not yet answered, oldest first."""
    return [json.loads(e) for e in get_redis().lrange(key("faults"), 0, -1)]


# --- roster, app chats, webhook robots -------------------------------------------------------

def roster() -> set[str]:
    """Valid userids; an empty set means every userid is accepted."""
    return {m.decode() for m in get_redis().smembers(key("roster"))}


def set_roster(userids: list[str]) -> None:
    """Replace the roster; an empty list accepts every userid again."""
    redis = get_redis()
    redis.delete(key("roster"))
    if userids:
        redis.sadd(key("roster"), *userids)


def add_appchats(chatids: list[str]) -> None:
    """Declare chats as created by this app, so appchat/send accepts them."""
    if chatids:
        get_redis().sadd(key("appchats"), *chatids)


def appchat_exists(chatid: str) -> bool:
    """Was ``chatid`` declared through control?"""
    return bool(get_redis().sismember(key("appchats"), chatid))


def add_webhooks(names_to_keys: dict[str, str]) -> None:
    """Register robots as ``{"group name": "key"}``, the shape of WECOM_GROUP_WEBHOOKS."""
    if names_to_keys:
        get_redis().hset(key("webhooks"), mapping={k: name for name, k in names_to_keys.items()})


def webhook_chat(webhook_key: str, configured: dict[str, str]) -> str | None:
    """The chat name a webhook key posts to, or None when the key is unknown."""
    name = get_redis().hget(key("webhooks"), webhook_key)
    if name is not None:
        return name.decode()
    return next((chat for chat, k in configured.items() if k == webhook_key), None)


# --- stats -----------------------------------------------------------------------------------

def count_call(path: str) -> None:
    """Count one API call under its normalised path."""
    get_redis().hincrby(key("calls"), normalise_path(path), 1)


def stats() -> dict:
    """Counts a test can assert on: gettoken answers and calls per API path."""
    redis = get_redis()
    calls = {k.decode(): int(v) for k, v in redis.hgetall(key("calls")).items()}
    return {"tokens_issued": int(redis.get(key("tokens_issued")) or 0), "calls": calls}
