"""The one way to send: rate limits, the delivery ledger, and WeCom's app and webhook APIs.

Only RQ jobs (``bot/outbox.py``) use the ``Messenger``. For every (push, recipient) it claims a
ledger row before calling WeCom and marks it sent afterwards, so a retried job or a second run of
the same push never sends twice; a row left in ``sending`` by a killed worker is never resent
either (at-most-once: we cannot know whether WeCom got it). Recipients over a rate limit are not
sent now: they come back in ``SendResult.deferred`` with the time they may be retried.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Mapping, Protocol, Sequence

from redis import Redis
from sqlalchemy.orm import Session

from bot.ledger import Ledger
from bot.sqlutil import chunks
from bot.outgoing import APP, GROUP, File, Image, Markdown, Message, News, Text, Voice, split_message
from bot.ratelimit import WEBHOOK_LIMITS, Limit, acquire_many, member_limits
from bot.voice import AmrClip, VoiceError, check_voice, media_id_for
from bot.wecom.errors import WeComError

log = logging.getLogger(__name__)

MAX_USERS_PER_CALL = 1000       # touser ids per message/send


class AppSender(Protocol):
    """What the Messenger needs from the app API client (``bot.wecom.client.WeComClient``)."""

    def send_message(self, userids: Sequence[str], msg: dict) -> dict: ...

    def upload_media(self, kind: str, filename: str, data: bytes) -> str: ...


class WebhookSender(Protocol):
    """What the Messenger needs from the webhook client (``bot.wecom.webhook.WebhookClient``)."""

    def send(self, key: str, payload: dict) -> dict: ...

    def upload_media(self, key: str, kind: str, filename: str, data: bytes) -> str: ...


@dataclass(frozen=True)
class SendResult:
    """What happened to each recipient (userids or chats, as given) in one send call.

    ``deferred`` maps recipients over a rate limit to the earliest time (epoch seconds, on the
    Messenger's clock) they may be retried; ``checked_at`` is the time the limits were checked.
    """

    sent: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()      # already sent, or left 'sending' by an earlier attempt
    failed: tuple[str, ...] = ()
    deferred: Mapping[str, float] = field(default_factory=dict)
    checked_at: float = 0.0

    @property
    def retry_at(self) -> float | None:
        return min(self.deferred.values(), default=None)

    def summary(self) -> dict:
        return {"sent": len(self.sent), "skipped": len(self.skipped), "failed": len(self.failed),
                "deferred": len(self.deferred), "retry_at": self.retry_at}


class Messenger:
    """Sends one message to a group (webhook) or to members (app ``message/send``).

    Args:
        session: SQL session for the ledger (committed as the ledger goes).
        redis: shared Redis for the rate limits.
        app_client: app API client, or None when no agent id/secret is configured.
        webhook: webhook client.
        webhooks: chat id or group name → webhook key (``WECOM_GROUP_WEBHOOKS``).
        agent_id: the app's agent id (scopes the per-member limits).
        now: aware 'now' (``bot.clock.now``).

    Raises (from the send methods):
        RetryableWeComError: a transient failure before anything went out; the claims were
            released, so running the job again sends.
    """

    def __init__(self, *, session: Session, redis: Redis, app_client: AppSender | None,
                 webhook: WebhookSender, webhooks: Mapping[str, str], agent_id: int | None,
                 now: Callable[[], datetime]):
        self._ledger = Ledger(session, now)
        self._redis = redis
        self._app = app_client
        self._webhook = webhook
        self._webhooks = dict(webhooks)
        self._agent_id = agent_id
        self._now = now

    def send_to_group(self, push_id: str, chat: str, message: Message) -> SendResult:
        """Send ``message`` to ``chat`` (chat id or group name) through its webhook, at most once."""
        recipient = f"group:{chat}"
        if not self._ledger.unsent(push_id, [recipient]):
            return SendResult(skipped=(chat,))
        key = self._webhooks.get(chat)
        if not key:
            return self._fail_unsendable(push_id, {recipient: chat}, message, "no webhook key for this group")
        parts = split_message(message, GROUP)
        if len(parts) > WEBHOOK_LIMITS[0].limit:
            return self._fail_unsendable(push_id, {recipient: chat}, message, _too_long(parts, WEBHOOK_LIMITS))
        now = self._now().timestamp()
        wait = acquire_many(self._redis, WEBHOOK_LIMITS, [_digest(key)], now=now, cost=len(parts))[_digest(key)]
        if wait:
            log.info("push %s: webhook of %s over 20/min, deferring %.1f s", push_id, chat, wait)
            return SendResult(deferred={chat: now + wait}, checked_at=now)
        if not self._ledger.claim(push_id, [recipient], message.msgtype):
            return SendResult(skipped=(chat,), checked_at=now)
        for index, part in enumerate(parts):
            try:
                self._webhook.send(key, self._group_payload(part, key))
            except WeComError as exc:
                self._record_error(push_id, [recipient], exc, index, len(parts))
                return SendResult(failed=(chat,), checked_at=now)
        self._ledger.mark_sent(push_id, [recipient])
        return SendResult(sent=(chat,), checked_at=now)

    def send_to_members(self, push_id: str, userids: Iterable[str], message: Message) -> SendResult:
        """Send ``message`` to each member once, ≤1000 per call; members over their limits wait."""
        ids = list(dict.fromkeys(u.strip() for u in userids if u and u.strip()))
        pending = self._ledger.unsent(push_id, [f"user:{u}" for u in ids])
        todo = [u for u in ids if f"user:{u}" in pending]
        skipped = [u for u in ids if f"user:{u}" not in pending]
        if not todo:
            return SendResult(skipped=tuple(skipped))
        if self._app is None:
            return self._fail_unsendable(push_id, {f"user:{u}": u for u in todo}, message,
                                         "app API not configured (WECOM_AGENT_ID/WECOM_SECRET)", skipped)
        parts, limits = split_message(message, APP), member_limits(self._agent_id or 0)
        if len(parts) > min(lim.limit for lim in limits):
            return self._fail_unsendable(push_id, {f"user:{u}": u for u in todo}, message,
                                         _too_long(parts, limits), skipped)
        now = self._now().timestamp()
        waits = acquire_many(self._redis, limits, todo, now=now, cost=len(parts))
        ready = [u for u in todo if not waits[u]]
        deferred = {u: now + waits[u] for u in todo if waits[u]}
        if deferred:
            log.info("push %s: %d member(s) over 30/min or 1000/h, deferring", push_id, len(deferred))
        sent, failed, lost = self._send_to_ready(push_id, ready, message, parts)
        return SendResult(tuple(sent), (*skipped, *lost), tuple(failed), deferred, now)

    # -- members, in batches ---------------------------------------------------------------------

    def _send_to_ready(self, push_id: str, ready: list[str], message: Message,
                       parts: list[Message]) -> tuple[list[str], list[str], list[str]]:
        """Upload media once, then send batch by batch; returns (sent, failed, claimed elsewhere)."""
        if not ready:
            return [], [], []
        try:
            payloads = [self._app_payload(part) for part in parts]   # uploads media once for all batches
        except WeComError as exc:
            if exc.retryable:
                raise
            claimed = self._ledger.claim(push_id, [f"user:{u}" for u in ready], message.msgtype)
            self._record_error(push_id, claimed, exc, 0, len(parts))
            failed = [r.removeprefix("user:") for r in claimed]
            return [], failed, [u for u in ready if u not in set(failed)]
        sent: list[str] = []
        failed = []
        lost: list[str] = []
        for batch in chunks(ready, MAX_USERS_PER_CALL):
            ok, bad, elsewhere = self._send_batch(push_id, batch, message.msgtype, payloads)
            sent += ok
            failed += bad
            lost += elsewhere
        return sent, failed, lost

    def _send_batch(self, push_id: str, batch: list[str], msgtype: str,
                    payloads: list[dict]) -> tuple[list[str], list[str], list[str]]:
        claimed = self._ledger.claim(push_id, [f"user:{u}" for u in batch], msgtype)
        users = [r.removeprefix("user:") for r in claimed]
        mine = set(users)
        lost = [u for u in batch if u not in mine]
        if not users:
            return [], [], lost
        invalid: set[str] = set()
        for index, payload in enumerate(payloads):
            try:
                answer = self._app.send_message(users, payload)
            except WeComError as exc:
                self._record_error(push_id, claimed, exc, index, len(payloads))
                return [], users, lost
            if index == 0:
                invalid = {u for u in str(answer.get("invaliduser") or "").split("|") if u}
        ok = [u for u in users if u not in invalid]
        self._ledger.mark_sent(push_id, [f"user:{u}" for u in ok])
        bad = [u for u in users if u in invalid]
        if bad:
            log.error("push %s: WeCom reported %d invalid user(s), e.g. %s", push_id, len(bad), bad[0])
            self._ledger.mark_failed(push_id, [f"user:{u}" for u in bad], None,
                                     "invaliduser: unknown or outside the app's visible range")
        return ok, bad, lost

    # -- errors ----------------------------------------------------------------------------------

    def _record_error(self, push_id: str, claimed: list[str], exc: WeComError, parts_sent: int,
                      total: int) -> None:
        """Release the claims and re-raise a retryable error if nothing went out; else mark failed."""
        if exc.retryable and parts_sent == 0:
            self._ledger.release(push_id, claimed)
            log.warning("push %s: %s; will retry", push_id, exc)
            raise exc
        note = f" (after {parts_sent} of {total} parts were sent)" if parts_sent else ""
        log.error("push %s: WeCom %s errcode=%s errmsg=%s for %d recipient(s)%s",
                  push_id, exc.path, exc.errcode, exc.errmsg, len(claimed), note)
        self._ledger.mark_failed(push_id, claimed, exc.errcode, f"{exc.path}: {exc.errmsg}{note}")

    def _fail_unsendable(self, push_id: str, recipients: dict[str, str], message: Message, why: str,
                         skipped: Sequence[str] = ()) -> SendResult:
        claimed = self._ledger.claim(push_id, list(recipients), message.msgtype)
        log.error("push %s: cannot send to %d recipient(s): %s", push_id, len(claimed), why)
        self._ledger.mark_failed(push_id, claimed, None, why)
        mine = set(claimed)
        lost = [ident for r, ident in recipients.items() if r not in mine]
        return SendResult(skipped=(*skipped, *lost), failed=tuple(recipients[r] for r in claimed))

    # -- rendering -------------------------------------------------------------------------------

    def _group_payload(self, part: Message, key: str) -> dict:
        if isinstance(part, Image):
            body = {"base64": base64.b64encode(part.data).decode("ascii"),
                    "md5": hashlib.md5(part.data).hexdigest()}   # noqa: S324 - WeCom's checksum
            return {"msgtype": "image", "image": body}
        if isinstance(part, Voice):
            media_id = self._voice_media_id(part, f"robot:{_digest(key)}",
                                            lambda data: self._webhook.upload_media(key, "voice", part.filename, data))
            return {"msgtype": "voice", "voice": {"media_id": media_id}}
        if isinstance(part, File):
            media_id = self._webhook.upload_media(key, part.msgtype, part.filename, part.data)
            return {"msgtype": part.msgtype, part.msgtype: {"media_id": media_id}}
        return _common_payload(part, mentions=True)

    def _app_payload(self, part: Message) -> dict:
        if isinstance(part, Voice):
            media_id = self._voice_media_id(part, "app",
                                            lambda data: self._app.upload_media("voice", part.filename, data))
            payload = {"msgtype": "voice", "voice": {"media_id": media_id}}
        elif isinstance(part, (Image, File)):
            filename = part.filename if isinstance(part, (File, Voice)) else _image_name(part.data)
            media_id = self._app.upload_media(part.msgtype, filename, part.data)
            payload = {"msgtype": part.msgtype, part.msgtype: {"media_id": media_id}}
        else:
            payload = _common_payload(part, mentions=False)
        return {**payload, "safe": 0, "enable_duplicate_check": 1}

    def _voice_media_id(self, part: Voice, target: str, upload: Callable[[bytes], str]) -> str:
        """Reuse the media id of a clip uploaded before (WeCom keeps it 3 days): a push of the same
        clip to the next batch, or next week, does not upload again."""
        try:
            check_voice(part.data)
        except VoiceError as exc:
            # not audio we made or checked: let WeCom judge it, as for any other file, and cache nothing
            log.warning("voice %s is not valid AMR (%s); uploading without the media id cache", part.filename, exc)
            return upload(part.data)
        clip = AmrClip(part.data, 0.0, "")
        return media_id_for(clip, upload, target=target, now=self._now(), redis=self._redis)


def _common_payload(part: Message, *, mentions: bool) -> dict:
    if isinstance(part, Text):
        body: dict = {"content": part.content}
        if mentions and part.mentioned:
            body["mentioned_list"] = list(part.mentioned)
        return {"msgtype": "text", "text": body}
    if isinstance(part, Markdown):
        return {"msgtype": "markdown", "markdown": {"content": part.content}}
    if isinstance(part, News):
        articles = [{k: v for k, v in asdict(a).items() if v} for a in part.articles]
        return {"msgtype": "news", "news": {"articles": articles}}
    raise TypeError(f"cannot render {type(part).__name__}")


def _too_long(parts: list[Message], limits: Sequence[Limit]) -> str:
    fit = min(lim.limit for lim in limits)
    return f"message too long: {len(parts)} parts, but at most {fit} fit in one rate-limit window"


def _image_name(data: bytes) -> str:
    return "image.png" if data.startswith(b"\x89PNG") else "image.jpg"


def _digest(key: str) -> str:
    """Rate-limit subject for a webhook: a hash, so the key itself never appears in Redis keys."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
