"""The WeCom callback endpoints: verify, decrypt, de-duplicate, answer — and nothing slow."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, abort, current_app, request

from bot import dedupe, flows, pipeline, redis_store
from bot.channels import Channel, all_channels
from bot.wecom.crypto import CallbackCrypto, CallbackRejected

log = logging.getLogger(__name__)
bp = Blueprint("callback", __name__)
CHANNELS: dict[str, Channel] = all_channels()
# a signed request older (or newer) than this is a replay, not a WeCom retry
MAX_CLOCK_SKEW_SECONDS = 600


class MissingParameters(CallbackRejected):
    status = 400


class StaleRequest(CallbackRejected):
    status = 403


@bp.get("/wecom/<channel_name>")
def verify_url(channel_name: str):
    channel, crypto = _channel_and_crypto(channel_name)
    try:
        params = _signature_params(require=("echostr",))
        echo = crypto.verify_url(params["msg_signature"], params["timestamp"], params["nonce"], params["echostr"])
    except CallbackRejected as exc:
        log.warning("%s URL verification refused: %s", channel.name, exc)
        abort(exc.status)
    return Response(echo, 200, content_type="text/plain; charset=utf-8")


@bp.post("/wecom/<channel_name>")
def receive(channel_name: str):
    channel, crypto = _channel_and_crypto(channel_name)
    try:
        params = _signature_params()
        encrypt = channel.read_envelope(request.get_data(cache=False))
        plaintext = crypto.decrypt(encrypt, params["msg_signature"], params["timestamp"], params["nonce"])
        inbound = channel.parse(plaintext)
    except CallbackRejected as exc:
        log.warning("%s callback refused (%s): %s", channel.name, exc.status, exc)
        abort(exc.status)
    if inbound is None or not inbound.sender_id:
        return _empty()
    app = current_app._get_current_object()

    def answer(flow_raw: bytes | None) -> str | None:
        reply = pipeline.handle(inbound, app, flow_raw=flow_raw)
        return channel.render(reply, inbound, app.config) if reply else None

    rendered = dedupe.once(redis_store.get_redis(), channel.name, inbound.msg_id, answer,
                           also_get=flows.key_for(inbound))
    if not rendered:
        return _empty()
    body = crypto.encrypt_reply(rendered, json_envelope=channel.json_envelope)
    content_type = "application/json" if channel.json_envelope else "application/xml"
    return Response(body, 200, content_type=f"{content_type}; charset=utf-8")


def _channel_and_crypto(name: str) -> tuple[Channel, CallbackCrypto]:
    channel = CHANNELS.get(name)
    if channel is None or not current_app.config.get("WECOM_TOKEN"):    # no callbacks: long connection only
        abort(404)
    cache = current_app.extensions.setdefault("szzs.crypto", {})
    if name not in cache:
        config = current_app.config
        cache[name] = CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], channel.receive_id(config))
    return channel, cache[name]


def _signature_params(require: tuple[str, ...] = ()) -> dict[str, str]:
    names = ("msg_signature", "timestamp", "nonce", *require)
    params = {name: request.args.get(name, "") for name in names}
    missing = [name for name, value in params.items() if not value]
    if missing:
        raise MissingParameters(f"missing {', '.join(missing)}")
    if not params["timestamp"].isdigit():
        raise MissingParameters("timestamp is not a number")
    if abs(time.time() - int(params["timestamp"])) > MAX_CLOCK_SKEW_SECONDS:
        raise StaleRequest("timestamp too far from now")
    return params


def _empty() -> Response:
    return Response(b"", 200, content_type="text/plain; charset=utf-8")
