"""The audit log: every admin command, allowed or not, with who, what, when and the result."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEntry


def record(session: Session, *, actor: str, command: str, arguments: str, result: str, at: datetime,
           detail: str = "") -> None:
    session.add(AuditEntry(actor=actor, command=command, arguments=arguments[:500], result=result, at=at,
                           detail=detail[:1000]))


def recent(session: Session, limit: int = 20) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
