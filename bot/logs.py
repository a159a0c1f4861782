"""Logging that never prints a secret: configured values and URL credentials are masked."""
from __future__ import annotations

import logging
import re

from bot.config import SECRET_KEYS

_URL_SECRETS = re.compile(r"((?:access_token|corpsecret|key|echostr)=)[^&\s\"']+")
MASK = "***"


class SecretFilter(logging.Filter):
    """Rewrites each record's message with known secrets and credential query values masked."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _URL_SECRETS.sub(r"\1" + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_secret_filter(config: dict) -> SecretFilter:
    """Attach the filter to every root handler (and to handlers added later through the root logger)."""
    values: list[str] = [str(config.get(k) or "") for k in SECRET_KEYS if k != "WECOM_GROUP_WEBHOOKS"]
    values += list((config.get("WECOM_GROUP_WEBHOOKS") or {}).values())
    secret_filter = SecretFilter(values)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
    return secret_filter
