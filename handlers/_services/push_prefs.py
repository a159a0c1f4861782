"""Members' own say over pushes: 免打扰 and a preferred form, stored in MemberPreference."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models.pushes import MemberPreference
from bot.sqlutil import in_values, values_param
from content_packs.schema import FORMS


def preferences(session: Session, userids: Iterable[str]) -> dict[str, MemberPreference]:
    """The stored preferences of these members; members who never set anything are absent (policy decides).

    One statement however many members: the ids travel as one JSON array (``bot.sqlutil.in_values``).
    """
    wanted = list(userids)
    if not wanted:
        return {}
    query = select(MemberPreference).where(in_values(MemberPreference.userid, session.connection().dialect.name))
    return {row.userid: row for row in session.scalars(query, values_param(wanted))}


def find_preference(session: Session, userid: str) -> MemberPreference | None:
    """One member's preference row, or None when he never set one."""
    return session.get(MemberPreference, userid)


def set_muted(session: Session, userid: str, muted: bool, *, now: datetime) -> bool:
    """Turn 免打扰 on or off; returns whether anything changed."""
    row = _row(session, userid, now)
    changed = bool(row.muted) != muted
    row.muted, row.updated_at = muted, now
    return changed


def set_preferred_form(session: Session, userid: str, form: str | None, *, now: datetime) -> bool:
    """Prefer ``form`` for pushes (None: back to the policy); returns whether anything changed.

    Raises:
        ValueError: ``form`` is not one of the push forms.
    """
    if form is not None and form not in FORMS:
        raise ValueError(f"unknown form {form!r}")
    row = _row(session, userid, now)
    changed = row.form != form
    row.form, row.updated_at = form, now
    return changed


def _row(session: Session, userid: str, now: datetime) -> MemberPreference:
    row = session.get(MemberPreference, userid)
    if row is None:
        row = MemberPreference(userid=userid, muted=False, form=None, updated_at=now)
        session.add(row)
    return row
