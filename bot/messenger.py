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
from bot.member_batches import MemberBatches, Tally
from bot.outgoing import APP, GROUP, File, Image, Markdown, Message, News, Series, Text, Voice, split_message, \
    split_text
from bot.ratelimit import WEBHOOK_LIMITS, Limit, acquire_many, member_limits
from bot.voice import VoiceError, check_voice
from bot.voice.media import stored_media_id
from bot.wecom.errors import WeComError

log = logging.getLogger(__name__)

CONVERSATION_MARKDOWN_LIMIT = 20480   # bytes, aibot_send_msg markdown (wecom-longconn.md §7)


class AppSender(Protocol):
    """What the Messenger needs from the app API client (``bot.wecom.client.WeComClient``)."""

    def send_message(self, userids: Sequence[str], msg: dict) -> dict: ...

    def upload_media(self, kind: str, filename: str, data: bytes) -> str: ...


class WebhookSender(Protocol):
    """What the Messenger needs from the webhook client (``bot.wecom.webhook.WebhookClient``)."""

    def send(self, key: str, payload: dict) -> dict: ...

    def upload_media(self, key: str, kind: str, filename: str, data: bytes) -> str: ...


class ConversationSender(Protocol):
    """What the Messenger needs to push into a smart-bot conversation (``bot.longconn.relay.RelaySender``):
    ``aibot_send_msg`` with markdown or a media_id, raising ``WeComError`` / ``RetryableWeComError`` like the
    API clients; ``media_target`` names where its media ids are valid (the media id cache's target)."""

    media_target: str

    def send_markdown(self, chatid: str, content: str, *, chat_type: int | None) -> None: ...

    def send_media(self, chatid: str, msgtype: str, media_id: str, *, chat_type: int | None) -> None: ...

    def upload_media(self, kind: str, filename: str, data: bytes) -> str: ...


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
        return self._send_once(push_id, recipient, chat, message.msgtype, parts, now,
                               lambda index, part: self._webhook.send(key, self._group_payload(part, key)))

    def send_to_members(self, push_id: str, userids: Iterable[str], message: Message) -> SendResult:
        """Send ``message`` to each member once, ≤1000 per call; members over their limits wait.

        Batches go out one call at a time; while one is in flight the next is booked (rate limits,
        ledger claim) and the previous one settled (marked sent), see ``bot.member_batches``.
        """
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
        try:
            payloads = [self._app_payload(part) for part in parts]   # uploads media once for all batches
        except WeComError as exc:
            if exc.retryable:
                raise
            claimed = self._ledger.claim(push_id, [f"user:{u}" for u in todo], message.msgtype)
            self._record_error(push_id, claimed, exc, 0, len(parts))
            failed = {r.removeprefix("user:") for r in claimed}
            return SendResult(skipped=(*skipped, *(u for u in todo if u not in failed)),
                              failed=tuple(u for u in todo if u in failed))
        tally = Tally(checked_at=self._now().timestamp(), skipped=skipped)
        batches = MemberBatches(ledger=self._ledger, redis=self._redis, app=self._app, record_error=self._record_error)
        batches.send(push_id, todo, message.msgtype, payloads, limits, tally)
        return SendResult(tuple(tally.sent), tuple(tally.skipped), tuple(tally.failed), tally.deferred,
                          tally.checked_at)

    def send_to_conversation(self, push_id: str, chatid: str, message: Message, sender: ConversationSender, *,
                             limits: Sequence[Limit], chat_type: int | None = None,
                             upload_limits: Sequence[Limit] = ()) -> SendResult:
        """Send ``message`` into one smart-bot conversation (long connection), at most once: text as
        markdown, a voice, image or file by a media id uploaded over the socket (reused while valid).

        ``limits`` are the conversation's windows (30/min, 1000/h, shared with replies), ``upload_limits``
        the bot's upload windows; over either the conversation is deferred like any other recipient.
        """
        recipient = f"chat:{chatid}"
        if not self._ledger.unsent(push_id, [recipient]):
            return SendResult(skipped=(chatid,))
        parts = _conversation_parts(message)
        if not parts or len(parts) > min(lim.limit for lim in limits):
            why = "message type not sent over the long connection" if not parts else _too_long(parts, limits)
            return self._fail_unsendable(push_id, {recipient: chatid}, message, why)
        now = self._now().timestamp()
        try:
            media = {i: self._conversation_media(p, sender, upload_limits) for i, p in enumerate(parts)
                     if isinstance(p, Message)}
        except _UploadLater as later:
            log.info("push %s: the bot's uploads are over 30/min or 1000/h, deferring %s", push_id, chatid)
            return SendResult(deferred={chatid: later.at}, checked_at=now)
        except WeComError as exc:
            if exc.retryable:
                raise
            if not self._ledger.claim(push_id, [recipient], message.msgtype):
                return SendResult(skipped=(chatid,), checked_at=now)
            self._record_error(push_id, [recipient], exc, 0, len(parts))
            return SendResult(failed=(chatid,), checked_at=now)
        wait = acquire_many(self._redis, limits, [chatid], now=now, cost=len(parts))[chatid]
        if wait:
            log.info("push %s: conversation %s over 30/min or 1000/h, deferring %.1f s", push_id, chatid, wait)
            return SendResult(deferred={chatid: now + wait}, checked_at=now)

        def send_part(index: int, part) -> None:
            if index in media:
                sender.send_media(chatid, part.msgtype, media[index], chat_type=chat_type)
            else:
                sender.send_markdown(chatid, part, chat_type=chat_type)

        return self._send_once(push_id, recipient, chatid, message.msgtype, parts, now, send_part)

    def _send_once(self, push_id: str, recipient: str, shown: str, msgtype: str, parts: Sequence, now: float,
                   send_part: Callable[[int, object], None]) -> SendResult:
        """Claim ``recipient`` in the ledger, send the parts in order, and record the outcome; a
        recipient claimed already (by another worker) is skipped."""
        if not self._ledger.claim(push_id, [recipient], msgtype):
            return SendResult(skipped=(shown,), checked_at=now)
        for index, part in enumerate(parts):
            try:
                send_part(index, part)
            except WeComError as exc:
                self._record_error(push_id, [recipient], exc, index, len(parts))
                return SendResult(failed=(shown,), checked_at=now)
        self._ledger.mark_sent(push_id, [recipient])
        return SendResult(sent=(shown,), checked_at=now)

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

    def _conversation_media(self, part: Message, sender: ConversationSender, upload_limits: Sequence[Limit]) -> str:
        """The bot's media id for a voice, image or file part: stored, else uploaded within the bot's limits."""
        filename = part.filename if isinstance(part, (File, Voice)) else _image_name(part.data)

        def upload(data: bytes) -> str:
            now = self._now().timestamp()
            wait = acquire_many(self._redis, upload_limits, ["media"], now=now)["media"] if upload_limits else 0
            if wait:
                raise _UploadLater(now + wait)
            return sender.upload_media(part.msgtype, filename, data)

        if isinstance(part, Voice):
            return self._voice_media_id(part, sender.media_target, upload)
        return stored_media_id(part.data, upload, target=f"{sender.media_target}:{part.msgtype}", now=self._now(),
                               redis=self._redis)

    def _voice_media_id(self, part: Voice, target: str, upload: Callable[[bytes], str]) -> str:
        """Reuse the media id of a clip uploaded before (WeCom keeps it 3 days): a push of the same
        clip to the next batch, or next week, does not upload again."""
        try:
            check_voice(part.data)
        except VoiceError as exc:
            # not audio we made or checked: let WeCom judge it, as for any other file, and cache nothing
            log.warning("voice %s is not valid AMR (%s); uploading without the media id cache", part.filename, exc)
            return upload(part.data)
        return stored_media_id(part.data, upload, target=target, now=self._now(), redis=self._redis)


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


def _conversation_parts(message: Message) -> list[str | Message]:
    """Markdown bodies for ``aibot_send_msg`` (≤20480 bytes each), or the voice, image or file itself."""
    if isinstance(message, Series):
        parts = [_conversation_parts(one) for one in message.messages]
        return [] if not all(parts) else [part for some in parts for part in some]
    if isinstance(message, (Voice, Image, File)):
        return [message]
    if isinstance(message, (Text, Markdown)):
        content = message.content
    elif isinstance(message, News):
        content = "\n\n".join(f"[{a.title}]({a.url})" + (f"\n{a.description}" if a.description else "")
                                for a in message.articles)
    else:
        return []
    return split_text(content, CONVERSATION_MARKDOWN_LIMIT)


def _too_long(parts: list[Message], limits: Sequence[Limit]) -> str:
    fit = min(lim.limit for lim in limits)
    return f"message too long: {len(parts)} parts, but at most {fit} fit in one rate-limit window"


def _image_name(data: bytes) -> str:
    return "image.png" if data.startswith(b"\x89PNG") else "image.jpg"


def _digest(key: str) -> str:
    """Rate-limit subject for a webhook: a hash, so the key itself never appears in Redis keys."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class _UploadLater(Exception):
    """The bot's upload windows are full: the conversation is deferred to ``at`` (epoch seconds)."""

    def __init__(self, at: float):
        super().__init__(at)
        self.at = at
