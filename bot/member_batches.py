"""One message to many members through the app API: ≤1000 members per ``message/send`` call, one call
in flight at a time while this thread books the next batch (rate-limit slots, ledger claim) and settles
the previous one (marked sent or failed). ``bot.call_line`` runs the calls; the Messenger decides what
is sent and owns the error rules (``record_error``).
"""
from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from redis import Redis

from bot.call_line import NOT_RUN, CallLine
from bot.ledger import Ledger
from bot.ratelimit import Limit, acquire_many
from bot.sqlutil import chunks
from bot.wecom.errors import WeComError

log = logging.getLogger(__name__)
MAX_USERS_PER_CALL = 1000       # touser ids per message/send


class _AppSender(Protocol):
    def send_message(self, userids: Sequence[str], msg: dict) -> dict: ...


@dataclass
class Tally:
    """One send's outcome, filled in batch by batch."""

    checked_at: float           # when the rate limits were checked (epoch seconds, the Messenger's clock)
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: dict[str, float] = field(default_factory=dict)


@dataclass
class _Call:
    """What one batch's call did: the answers of the parts that went out, and the error that stopped it."""

    answers: list[dict]
    error: WeComError | None = None


class MemberBatches:
    """The batches of one ``Messenger.send_to_members`` call (a new one per call)."""

    def __init__(self, *, ledger: Ledger, redis: Redis, app: _AppSender,
                 record_error: Callable[[str, list[str], WeComError, int, int], None]):
        self._ledger = ledger
        self._redis = redis
        self._app = app
        self._record_error = record_error

    def send(self, push_id: str, todo: list[str], msgtype: str, payloads: list[dict], limits: Sequence[Limit],
             tally: Tally) -> None:
        """Send ``payloads`` (the parts of one message) to the members ``todo``, filling in ``tally``.

        Raises:
            RetryableWeComError: a call failed before any of its parts went out; the claims of that batch and
                of the batches booked after it are released, so the job's retry sends them.
        """
        in_flight: deque[tuple[list[str], Future]] = deque()
        with CallLine() as line:
            try:
                for batch in chunks(todo, MAX_USERS_PER_CALL):
                    users = self._book(push_id, batch, msgtype, limits, len(payloads), tally)
                    if users:
                        in_flight.append((users, line.submit(self._call, line, users, payloads)))
                    while len(in_flight) > 1:
                        self._settle(push_id, *in_flight.popleft(), len(payloads), tally)
                while in_flight:
                    self._settle(push_id, *in_flight.popleft(), len(payloads), tally)
            except BaseException:
                line.stop()
                for users, future in in_flight:     # booked but never sent: the retry sends them
                    if future.result() is NOT_RUN:
                        self._ledger.release(push_id, [f"user:{u}" for u in users])
                raise

    def _book(self, push_id: str, batch: list[str], msgtype: str, limits: Sequence[Limit], cost: int,
              tally: Tally) -> list[str]:
        """Take the batch's rate-limit slots and claim it in the ledger; returns the members now ours."""
        now = tally.checked_at
        waits = acquire_many(self._redis, limits, batch, now=now, cost=cost)
        deferred = {u: now + waits[u] for u in batch if waits[u]}
        if deferred:
            log.info("push %s: %d member(s) over 30/min or 1000/h, deferring", push_id, len(deferred))
            tally.deferred.update(deferred)
        ready = [u for u in batch if not waits[u]]
        claimed = set(self._ledger.claim(push_id, [f"user:{u}" for u in ready], msgtype))
        tally.skipped += [u for u in ready if f"user:{u}" not in claimed]     # claimed by another worker
        return [u for u in ready if f"user:{u}" in claimed]

    def _call(self, line: CallLine, users: list[str], payloads: list[dict]) -> "_Call":
        """On the call line's thread: every part to these members, stopping at the first error."""
        answers: list[dict] = []
        for payload in payloads:
            try:
                answers.append(self._app.send_message(users, payload))
            except WeComError as exc:
                if exc.retryable and not answers:
                    line.stop()     # nothing of this batch went out: the job's retry sends it and the rest
                return _Call(answers, exc)
        return _Call(answers)

    def _settle(self, push_id: str, users: list[str], future: Future, total: int, tally: Tally) -> None:
        """Record what one batch's call did (raises a retryable error when nothing went out)."""
        call = future.result()
        claimed = [f"user:{u}" for u in users]
        if call.error is not None:
            self._record_error(push_id, claimed, call.error, len(call.answers), total)
            tally.failed += users
            return
        invalid = {u for u in str(call.answers[0].get("invaliduser") or "").split("|") if u}
        ok = [u for u in users if u not in invalid]
        self._ledger.mark_sent(push_id, [f"user:{u}" for u in ok])
        tally.sent += ok
        bad = [u for u in users if u in invalid]
        if bad:
            log.error("push %s: WeCom reported %d invalid user(s), e.g. %s", push_id, len(bad), bad[0])
            self._ledger.mark_failed(push_id, [f"user:{u}" for u in bad], None,
                                     "invaliduser: unknown or outside the app's visible range")
            tally.failed += bad
