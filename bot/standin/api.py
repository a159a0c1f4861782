"""The WeCom API face of the stand-in: ``/standin/<path>`` answers like ``qyapi.weixin.qq.com/cgi-bin/<path>``.

Each view parses the request and hands plain values to service.py. Every API call first counts
itself, waits the scripted latency and answers a queued fault if one matches its path.
"""
from __future__ import annotations

import functools
import io
import json
import time
from typing import Callable

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from bot.standin import codes, longconn_http, records, scenario, service, store
from bot.standin.media import content_type

bp = Blueprint("standin_api", __name__)
bp.register_blueprint(longconn_http.bp)     # POST /standin/longconn/messages (not a WeCom API)

MAX_REQUEST_BYTES = 25 * 1024 * 1024     # a 20 MB file plus multipart overhead
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@bp.before_request
def _allow_large_uploads() -> None:
    # the app caps bodies at 64 KB for callbacks; WeCom takes files up to 20 MB
    request.max_content_length = MAX_REQUEST_BYTES


def api_call(path: str) -> Callable:
    """Wrap a view that returns an answer dict (or a ready Response) with the scripted behaviour."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs):
            started = time.monotonic()
            scenario.count_call(path)
            fault = scenario.pop_fault(path)
            if fault is not None:
                answer = codes.answer(int(fault["errcode"]))
                answer["errmsg"] = fault.get("errmsg") or answer["errmsg"]
                result = jsonify(answer)
            else:
                result = view(**kwargs)
            # the latency is WeCom's response time: the stand-in's own work is part of it, not added to it
            pause(scenario.latency_ms() - (time.monotonic() - started) * 1000)
            return result if isinstance(result, Response) else jsonify(result)
        return wrapper
    return decorate


def pause(milliseconds: float) -> None:
    """Sleep like a slow network would; tests replace ``time.sleep`` rather than wait."""
    if milliseconds > 0:
        time.sleep(milliseconds / 1000)


def _json_body() -> dict | None:
    try:
        body = json.loads(request.get_data().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _token_refusal() -> dict | None:
    token = request.args.get("access_token")
    if not token:
        return codes.answer(codes.MISSING_TOKEN)
    state = store.token_state(token)
    if state == "unknown":
        return codes.answer(codes.INVALID_TOKEN, "this access_token was never issued")
    if state == "expired":
        return codes.answer(codes.TOKEN_EXPIRED)
    return None


_BAD_JSON = codes.answer(codes.INVALID_PARAMETER, "Warning: wrong json format. body must be a JSON object")


@bp.get("/gettoken")
@api_call("gettoken")
def gettoken() -> dict:
    """``GET gettoken?corpid&corpsecret``: the app's access_token (the same one until it expires)."""
    corpid, secret = request.args.get("corpid"), request.args.get("corpsecret")
    if not corpid:
        return codes.answer(codes.MISSING_CORPID)
    if not secret:
        return codes.answer(codes.MISSING_SECRET)
    if corpid != current_app.config.get("WECOM_CORP_ID"):
        return codes.answer(codes.INVALID_CORPID)
    if secret != current_app.config.get("WECOM_SECRET"):
        return codes.answer(codes.INVALID_SECRET, "corpsecret does not match WECOM_SECRET")
    token, expires_in = store.issue_token()
    return codes.answer(codes.OK, access_token=token, expires_in=expires_in)


@bp.post("/message/send")
@api_call("message/send")
def message_send() -> dict:
    """``POST message/send?access_token``: an app message to members."""
    body = _json_body()
    refusal = _token_refusal() or (None if body is not None else _BAD_JSON)
    return refusal or service.send_app(body, agent_id=current_app.config.get("WECOM_AGENT_ID"))


@bp.post("/appchat/send")
@api_call("appchat/send")
def appchat_send() -> dict:
    """``POST appchat/send?access_token``: an app message to a chat the app created."""
    body = _json_body()
    refusal = _token_refusal() or (None if body is not None else _BAD_JSON)
    return refusal or service.send_appchat(body)


@bp.post("/webhook/send")
@api_call("webhook/send")
def webhook_send() -> dict:
    """``POST webhook/send?key``: a group robot push."""
    body = _json_body()
    if body is None:
        return _BAD_JSON
    configured = current_app.config.get("WECOM_GROUP_WEBHOOKS") or {}
    return service.send_webhook(request.args.get("key", ""), body, configured=configured)


def _media_part() -> tuple[str | None, bytes | None]:
    part = request.files.get("media")
    if part is None:
        return None, None
    return part.filename, part.read()


@bp.post("/media/upload")
@api_call("media/upload")
def media_upload() -> dict:
    """``POST media/upload?access_token&type``: temporary media for app messages."""
    refusal = _token_refusal()
    if refusal:
        return refusal
    filename, data = _media_part()
    return service.upload(request.args.get("type", ""), filename, data, owner="app",
                          allowed=service.APP_UPLOAD_TYPES)


@bp.post("/webhook/upload_media")
@api_call("webhook/upload_media")
def webhook_upload_media() -> dict:
    """``POST webhook/upload_media?key&type``: file or voice media private to one robot."""
    webhook_key = request.args.get("key", "")
    configured = current_app.config.get("WECOM_GROUP_WEBHOOKS") or {}
    known = bool(webhook_key) and scenario.webhook_chat(webhook_key, configured) is not None
    filename, data = _media_part()
    return service.upload(request.args.get("type", ""), filename, data, owner=f"webhook:{webhook_key}",
                          allowed=service.WEBHOOK_UPLOAD_TYPES, owner_known=known)


@bp.get("/media/get")
@api_call("media/get")
def media_get() -> dict | Response:
    """``GET media/get?access_token&media_id``: the bytes of app media."""
    refusal = _token_refusal()
    if refusal:
        return refusal
    found = store.find_media(request.args.get("media_id", ""))
    if found is None or found.owner != "app":
        return codes.answer(codes.INVALID_MEDIA_ID)
    return media_response(found)


def media_response(found: store.Media) -> Response:
    """Serve stored media bytes the way media/get does."""
    # a Chinese file name goes in filename* (RFC 6266), with an ASCII filename for old clients
    return send_file(io.BytesIO(found.data), mimetype=content_type(found.kind, found.data), as_attachment=True,
                     download_name=found.filename, etag=False, conditional=False)


@bp.route("/", defaults={"path": ""}, methods=ALL_METHODS)
@bp.route("/<path:path>", methods=ALL_METHODS)
def unexpected(path: str):
    """Anything the stand-in does not know: 404, and a violation a test can fail on."""
    scenario.count_call(path or "/")
    pause(scenario.latency_ms())
    records.add_violation(method=request.method, path=request.path,
                          query=request.query_string.decode("utf-8", "replace"), body=request.get_data())
    answer = codes.answer(codes.UNEXPECTED_CALL)
    answer["errmsg"] = f"unexpected call {request.method} {request.path}: the stand-in does not offer it"
    return jsonify(answer), 404
