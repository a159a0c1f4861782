"""The delivery ledger: one row per (push, recipient), so nothing is ever sent twice."""
from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Callable, Sequence

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from bot.models.messaging import Delivery, DeliveryStatus
from bot.sqlutil import in_values, insert_each_ignoring_duplicates, values_param

log = logging.getLogger(__name__)
_SENDING, _SENT, _FAILED = (s.value for s in (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED))


class Ledger:
    """Rows of ``Delivery`` per (push_id, recipient); commits on the given session as it goes.

    Recipients are ``"user:<userid>"`` or ``"group:<chat>"``. Claims are race-safe across processes:
    the unique constraint decides, and a recipient whose row exists is just "not ours". Any row
    is final for its push: ``sent``; ``failed`` (WeCom refused, perhaps after some parts went out,
    so sending again could duplicate; a new push_id sends again); ``sending`` (a worker died
    mid-call and WeCom may have it). Only a retryable failure deletes its claim.

    Each bulk step is one statement whatever the number of recipients: they travel as one JSON array
    parameter (``bot.sqlutil.json_values``), so no row is bound and processed one by one.
    """

    def __init__(self, session: Session, now: Callable[[], datetime]):
        self._session = session
        self._now = now

    def unsent(self, push_id: str, recipients: Sequence[str]) -> set[str]:
        """Recipients with no row yet. Logs the others: sent, failed (final) or left ``sending``."""
        rows = self._statuses(push_id, recipients)
        stuck = [r for r, s in rows.items() if s == _SENDING]
        if len(rows) > len(stuck):
            log.info("push %s: %d recipient(s) already sent or failed, not sending again",
                     push_id, len(rows) - len(stuck))
        if stuck:
            log.warning("push %s: %d recipient(s) left 'sending' by an earlier attempt (e.g. %s); "
                        "not resending (at-most-once)", push_id, len(stuck), stuck[0])
        return {r for r in recipients if r not in rows}

    def claim(self, push_id: str, recipients: Sequence[str], msgtype: str) -> list[str]:
        """Insert ``sending`` rows and return the recipients this caller now owns, in order.

        One INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING: a recipient who has a row already (sent,
        failed, or claimed by another worker a moment ago) is simply not returned.
        """
        if not recipients:
            return []
        same = dict(push_id=push_id, msgtype=msgtype, status=_SENDING, attempts=1, errcode=None, error="",
                    updated_at=self._now())
        claimed = set(insert_each_ignoring_duplicates(self._session, Delivery, "recipient", recipients, same=same,
                                                      returning=Delivery.recipient))
        self._session.commit()
        return [r for r in recipients if r in claimed]

    def mark_sent(self, push_id: str, recipients: Sequence[str]) -> None:
        self._set(push_id, recipients, status=_SENT, errcode=None, error="")

    def mark_failed(self, push_id: str, recipients: Sequence[str], errcode: int | None, error: str) -> None:
        self._set(push_id, recipients, status=_FAILED, errcode=errcode, error=error[:500])

    def give_up(self, push_id: str, recipients: Sequence[str], msgtype: str, errcode: int | None,
                error: str) -> list[str]:
        """Record recipients that never got the push after every retry; returns those recorded."""
        claimed = self.claim(push_id, recipients, msgtype)
        self.mark_failed(push_id, claimed, errcode, error)
        return claimed

    def release(self, push_id: str, recipients: Sequence[str]) -> None:
        """Delete our ``sending`` claims after a retryable failure, so the retry sends."""
        if recipients:
            self._execute(_release, push_id, recipients)
        self._session.commit()

    def _statuses(self, push_id: str, recipients: Sequence[str]) -> dict[str, str]:
        return {r: s for r, s in self._execute(_statuses, push_id, recipients)} if recipients else {}

    def _set(self, push_id: str, recipients: Sequence[str], *, status: str, errcode: int | None,
             error: str) -> None:
        if recipients:
            self._execute(_settle, push_id, recipients, to_status=status, to_errcode=errcode, to_error=error,
                          to_updated_at=self._now())
        self._session.commit()

    def _execute(self, statement: Callable[[str], object], push_id: str, recipients: Sequence[str], **params):
        """Run ``statement`` (built per SQL dialect) for ``recipients`` of ``push_id``."""
        connection = self._session.connection()
        return connection.execute(statement(connection.dialect.name),
                                  {"of_push": push_id, **values_param(recipients), **params})


# -- the statements, built once per SQL dialect -----------------------------------------------------

def _of_push(dialect: str):
    """The rows of ``:of_push`` whose recipient is in the JSON array ``:values``."""
    return (Delivery.push_id == bindparam("of_push"),
            in_values(Delivery.recipient, dialect))


@cache
def _statuses(dialect: str):
    return select(Delivery.recipient, Delivery.status).where(*_of_push(dialect))


@cache
def _settle(dialect: str):
    return (update(Delivery).where(*_of_push(dialect), Delivery.status == _SENDING)
            .values(**{column: bindparam(f"to_{column}", type_=getattr(Delivery, column).type)
                       for column in ("status", "errcode", "error", "updated_at")})
            .execution_options(synchronize_session=False))


@cache
def _release(dialect: str):
    return (delete(Delivery).where(*_of_push(dialect), Delivery.status == _SENDING)
            .execution_options(synchronize_session=False))


def recent_failures(session: Session, limit: int = 20) -> list[Delivery]:
    """The latest failed deliveries, newest first (for admins)."""
    query = (select(Delivery).where(Delivery.status == _FAILED)
             .order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(limit)
             .execution_options(populate_existing=True))
    return list(session.scalars(query))
