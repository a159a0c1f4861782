"""The simulator's page and JSON endpoints (served in demo mode only)."""
from __future__ import annotations

from flask import Response, current_app, jsonify, render_template, request, url_for

from bot import clock, db
from bot.config import DEMO_GROUP_NAME
from bot.dashboard import webfont
from bot.simulator import audio, bp, conversation, people, render, timeline
from bot.standin import records, store
from bot.standin.api import media_response

MAX_TEXT = 2000


@bp.get("/")
def page():
    # the page shows what arrives from now on, not the whole stand-in log
    last = max([r["id"] for r in records.list_messages()] or [0])
    return render_template("simulator.html", group_name=DEMO_GROUP_NAME, last_push=last)


@bp.get("/font.otf")
def font():
    return webfont.font_response()


@bp.get("/api/people")
def list_people():
    tree = people.roster_tree(db.get_session(), today=clock.now().date(),
                              config_admins=tuple(current_app.config.get("BOT_ADMINS", ())))
    return jsonify(departments=tree, group_name=DEMO_GROUP_NAME)


@bp.post("/api/say")
def say():
    data = request.get_json(silent=True) or {}
    user, text = str(data.get("user") or "").strip(), str(data.get("text") or "").strip()
    if not user or not text:
        return jsonify(error="请先选择成员并输入内容。"), 400
    if len(text) > MAX_TEXT:
        return jsonify(error=f"消息太长了（最多 {MAX_TEXT} 字）。"), 400
    said = conversation.say(current_app.config, user=user, text=text, channel=str(data.get("channel") or ""),
                            group=bool(data.get("group")))
    if said.error:
        return jsonify(error=said.error), 502
    return jsonify(reply=said.reply)


@bp.get("/api/pushes")
def list_pushes():
    """Stand-in records after ``since`` as bubbles; each says whether it went to the group or to whom."""
    since = request.args.get("since", type=int)
    group = conversation.group_names(current_app.config)
    items = []
    for record in records.list_messages(since_id=since):
        items.append({"id": record["id"], "group": record.get("chat") in group, "chat": record.get("chat"),
                      "recipient": record.get("recipient"), "dropped": bool(record.get("dropped")),
                      "via": record.get("via"), "bubble": render.stand_in_record(record, media_url=_media_url)})
    last = max([item["id"] for item in items] + [since or 0])
    return jsonify(pushes=items, last=last)


@bp.get("/media/<media_id>")
def media(media_id: str):
    """Stored media as the browser can show it: voice decoded from AMR to WAV, the rest as uploaded."""
    found = store.find_media(media_id)
    if found is None:
        return jsonify(error="这条媒体已过期或不存在。"), 404
    if found.kind == "voice":
        try:
            return Response(audio.amr_to_wav(found.data), mimetype="audio/wav")
        except audio.NotPlayable:
            return jsonify(error="这段语音无法播放。"), 422
    return media_response(found)


@bp.get("/api/clock")
def clock_state():
    return jsonify(timeline.state(current_app._get_current_object()).to_json())


@bp.post("/api/clock")
def move_clock():
    data = request.get_json(silent=True) or {}
    app = current_app._get_current_object()
    if data.get("reset"):
        timeline.reset(app)
        return jsonify(timeline.state(app).to_json())
    minutes = data.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        return jsonify(error="请给出要快进的分钟数。"), 400
    try:
        enqueued = timeline.step(app, minutes)
    except ValueError:
        return jsonify(error=f"每一步只能快进 1 到 {timeline.STEP_MINUTES} 分钟，最多快进一年。"), 400
    return jsonify(dict(timeline.state(app).to_json(), enqueued=enqueued))


def _media_url(media_id: str, kind: str) -> str:
    return url_for("simulator.media", media_id=media_id) if media_id else ""
