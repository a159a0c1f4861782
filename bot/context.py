"""The Context handed to handlers: who asked, where, when, and the services they may use."""
from __future__ import annotations

from datetime import datetime
from functools import cached_property

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot import clock, db, flows, org, redis_store, roles
from bot.acl import Role
from bot.messages import Inbound
from bot.models import Member


_ROSTER_NAME = select(Member.name).where(Member.userid == bindparam("userid"))


class Context:
    """Built once per inbound message; lookups are lazy so a simple command costs few queries."""

    def __init__(self, inbound: Inbound, app: Flask, *, flow_raw=flows.UNREAD):
        self.inbound = inbound
        self._flow_raw = flow_raw
        self.app = app
        self.config = app.config
        self.now: datetime = clock.now(app)
        self.session: Session = db.get_session()

    @property
    def user_id(self) -> str:
        return self.inbound.sender_id

    @property
    def is_group(self) -> bool:
        return self.inbound.is_group

    @cached_property
    def member(self) -> Member | None:
        """The sender's full roster entry (ORM); handlers that only need the name use ``roster_name``."""
        return self.session.get(Member, self.user_id) if self.user_id else None

    @cached_property
    def roster_name(self) -> str | None:
        """The sender's name on the roster, or None when not on it: one cheap query."""
        if not self.user_id:
            return None
        return self.session.connection().execute(_ROSTER_NAME, {"userid": self.user_id}).scalar()

    @property
    def on_roster(self) -> bool:
        return self.roster_name is not None

    @property
    def display_name(self) -> str:
        return self.roster_name or self.inbound.sender_name or self.user_id

    @cached_property
    def conversation(self) -> flows.Conversation:
        """The member's multi-turn flow in this chat (read on first use unless the callback prefetched it)."""
        from bot.router import get_registry

        return flows.Conversation(redis_store.get_redis(self.app), flows.key_for(self.inbound),
                                  get_registry(self.app).flows, self._flow_raw)

    @cached_property
    def standing(self) -> roles.Standing:
        return roles.resolve(self.session, self.user_id, on_roster=self.on_roster,
                             config_admins=tuple(self.config.get("BOT_ADMINS", ())))

    @property
    def role(self) -> Role:
        return self.standing.role

    @cached_property
    def scope(self) -> set[int]:
        """The org units this person may look into: the whole tree for admins, the units a leader
        leads (their teams included by the callers), nothing for members."""
        if self.role >= Role.ADMIN:
            return org.root_units(self.session)
        return set(self.standing.leads)
