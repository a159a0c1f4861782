"""The stand-in's own endpoints for tests and the simulator: read what was sent, script behaviour.

These are not WeCom APIs, so they are neither delayed, counted nor given scripted faults.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from bot.standin import api, records, scenario, store

bp = Blueprint("standin_control", __name__)

CONTROL_KEYS = ("reset", "latency_ms", "fail_next", "expire_tokens", "roster", "webhooks", "appchats")


@bp.get("/messages")
def list_messages():
    """Recorded messages, oldest first; filters ``recipient``, ``chat``, ``via``, ``since_id``."""
    since_id = request.args.get("since_id", type=int)
    return jsonify(records.list_messages(recipient=request.args.get("recipient"), chat=request.args.get("chat"),
                                         via=request.args.get("via"), since_id=since_id))


@bp.delete("/messages")
def clear_messages():
    """Forget recorded messages (tokens, media and limits stay)."""
    records.clear_messages()
    return jsonify(ok=True)


@bp.get("/violations")
def list_violations():
    """Calls the stand-in did not understand, oldest first."""
    return jsonify(records.list_violations())


@bp.delete("/violations")
def clear_violations():
    """Forget recorded violations."""
    records.clear_violations()
    return jsonify(ok=True)


@bp.get("/media/<media_id>")
def get_media(media_id: str):
    """Raw bytes of any stored upload (app or robot), e.g. to play a voice message back."""
    found = store.find_media(media_id)
    if found is None:
        return jsonify(errcode=40007, errmsg="invalid media_id (standin: unknown or expired)"), 404
    return api.media_response(found)


@bp.post("/_control")
def control():
    """Apply a JSON object of settings; ``reset`` runs first so it can be combined with the rest."""
    settings = request.get_json(silent=True)
    error = _control_error(settings)
    if error:
        return jsonify(ok=False, error=error), 400
    if settings.get("reset"):
        store.reset()
    if "latency_ms" in settings:
        scenario.set_latency_ms(settings["latency_ms"])
    scenario.queue_faults(settings.get("fail_next", []))
    if settings.get("expire_tokens"):
        store.expire_tokens()
    if "roster" in settings:
        scenario.set_roster(settings["roster"] or [])
    scenario.add_webhooks(settings.get("webhooks") or {})
    scenario.add_appchats(settings.get("appchats") or [])
    return jsonify(ok=True, latency_ms=scenario.latency_ms(), fail_next=scenario.pending_faults(),
                   roster=sorted(scenario.roster()))


def _control_error(settings: object) -> str | None:
    """Refuse malformed control bodies loudly, so a typo in a test does not silently do nothing."""
    if not isinstance(settings, dict):
        return "body must be a JSON object"
    unknown = sorted(set(settings) - set(CONTROL_KEYS))
    if unknown:
        return f"unknown keys {unknown}; known: {list(CONTROL_KEYS)}"
    if "latency_ms" in settings and (not isinstance(settings["latency_ms"], int) or settings["latency_ms"] < 0):
        return "latency_ms must be a non-negative integer"
    faults = settings.get("fail_next", [])
    if not isinstance(faults, list) or not all(
            isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("errcode"), int)
            for f in faults):
        return 'fail_next must be a list of {"path": str, "errcode": int, "errmsg"?: str}'
    for name in ("roster", "appchats"):
        if not _is_str_list(settings.get(name) or []):
            return f"{name} must be a list of strings"
    webhooks = settings.get("webhooks") or {}
    if not isinstance(webhooks, dict) or not all(isinstance(v, str) and v for v in webhooks.values()):
        return 'webhooks must map chat names to keys: {"group name": "key"}'
    return None


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


@bp.get("/_control/stats")
def stats():
    """Counts: tokens_issued, calls per API path, messages, dropped, violations."""
    counts = scenario.stats()
    messages = records.list_messages()
    counts.update(messages=len(messages), dropped=sum(1 for m in messages if m["dropped"]),
                  violations=len(records.list_violations()))
    return jsonify(counts)
