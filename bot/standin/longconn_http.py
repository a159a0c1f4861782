"""``POST /standin/longconn/messages``: speak to the bot through the long-connection stand-in, read its answer.

The WebSocket stand-in runs in its own process (`python -m bot standin-longconn`); this endpoint hands it
the message through Redis and waits for what the bot answered (its replies on the message's req_id and
any ``aibot_send_msg`` fallback to the same conversation).

Body ``{"userid", "text", "chatid"?, "chattype"?: "single"|"group"}`` → ``{"replies": [str], "req_id"}``;
400 for a malformed body, 503 when no bot is connected to the stand-in, 504 when nothing came back in time.
"""
from __future__ import annotations

import json
import uuid

from flask import Blueprint, jsonify, request

from bot.redis_store import get_redis
from bot.standin.store import key

bp = Blueprint("standin_longconn", __name__)

INBOX = "longconn-inbox"
OUTCOME = "longconn-outcome:{id}"
ANSWER_WAIT_SECONDS = 8


@bp.post("/longconn/messages")
def say():
    body = request.get_json(silent=True)
    error = _body_error(body)
    if error:
        return jsonify(error=error), 400
    chattype = body.get("chattype") or ("group" if body.get("chatid") else "single")
    message = {"id": uuid.uuid4().hex, "userid": body["userid"], "text": body["text"], "chatid": body.get("chatid"),
               "chattype": chattype}
    redis = get_redis()
    raw = json.dumps(message, ensure_ascii=False)
    redis.rpush(key(INBOX), raw)
    got = redis.blpop([key(OUTCOME.format(id=message["id"]))], timeout=ANSWER_WAIT_SECONDS)
    if got is None:
        redis.lrem(key(INBOX), 1, raw)
        return jsonify(error="the long-connection stand-in did not answer: is `python -m bot standin-longconn` "
                             "running (the one-command run starts it when WECOM_BOT_ID is set)?"), 504
    outcome = json.loads(got[1])
    if outcome.get("error"):
        return jsonify(error=outcome["error"]), 503
    return jsonify(outcome)


def _body_error(body: object) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name in ("userid", "text"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return f"{name} must be a non-empty string"
    if body.get("chatid") is not None and not isinstance(body["chatid"], str):
        return "chatid must be a string"
    if body.get("chattype") not in (None, "single", "group"):
        return 'chattype must be "single" or "group"'
    if body.get("chattype") == "group" and not body.get("chatid"):
        return "a group message needs a chatid"
    return None
