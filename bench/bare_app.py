"""The baseline: a bare Flask app with the bot's callback route, doing no work at all.

Served by the same gunicorn command and config as the bot, so the ratio bot/bare isolates
what the bot itself costs per callback from what Flask, gunicorn and the load generator cost.
"""
from __future__ import annotations

from flask import Flask, Response

FIXED_BODY = b"<xml><Encrypt>ok</Encrypt></xml>"


def create_app() -> Flask:
    """Build the baseline app: POST /wecom/robot answers a fixed body, GET /readyz says ready."""
    app = Flask(__name__)

    @app.post("/wecom/robot")
    def robot():
        return Response(FIXED_BODY, 200, content_type="application/xml; charset=utf-8")

    @app.get("/readyz")
    def readyz():
        return {"ok": True}

    return app
