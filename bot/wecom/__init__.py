"""WeCom outbound clients (app API and group webhooks), built once per app from its settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from bot import redis_store
from bot.wecom.client import WeComClient
from bot.wecom.errors import RetryableWeComError, WeComError
from bot.wecom.webhook import WebhookClient

EXTENSION = "szzs.wecom"

__all__ = ["WeComClients", "WeComClient", "WebhookClient", "WeComError", "RetryableWeComError", "get_clients"]


@dataclass(frozen=True)
class WeComClients:
    """The outbound clients of one app; ``app`` is None when no agent id/secret is configured."""

    app: WeComClient | None
    webhook: WebhookClient


def get_clients(app: Flask | None = None) -> WeComClients:
    """The app's clients, created on first use (tests may put their own in ``app.extensions``)."""
    app = app or current_app
    clients = app.extensions.get(EXTENSION)
    if clients is None:
        config = app.config
        base = config["WECOM_API_BASE"]
        app_client = None
        if config.get("WECOM_AGENT_ID") and config.get("WECOM_SECRET"):
            app_client = WeComClient(api_base=base, corp_id=config["WECOM_CORP_ID"],
                                     agent_id=int(config["WECOM_AGENT_ID"]), secret=config["WECOM_SECRET"],
                                     redis=redis_store.get_redis(app))
        clients = app.extensions.setdefault(EXTENSION, WeComClients(app=app_client, webhook=WebhookClient(base)))
    return clients
