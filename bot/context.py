"""The Context handed to handlers: who asked, where, when, and the services they may use."""
from __future__ import annotations

from datetime import datetime
from functools import cached_property

from flask import Flask
from redis import Redis
from sqlalchemy.orm import Session

from bot import clock, db, redis_store, roles, tasks
from bot.acl import Role
from bot.messages import Inbound
from bot.models import Member


class Context:
    """Built once per inbound message; lookups are lazy so a simple command costs few queries."""

    def __init__(self, inbound: Inbound, app: Flask):
        self.inbound = inbound
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
        return self.session.get(Member, self.user_id) if self.user_id else None

    @property
    def display_name(self) -> str:
        return self.member.name if self.member else (self.inbound.sender_name or self.user_id)

    @cached_property
    def standing(self) -> roles.Standing:
        return roles.resolve(self.session, self.user_id, on_roster=self.member is not None,
                             config_admins=tuple(self.config.get("BOT_ADMINS", ())))

    @property
    def role(self) -> Role:
        return self.standing.role

    @property
    def jobs(self) -> tasks.JobGateway:
        return tasks.get_jobs(self.app)

    @property
    def redis(self) -> Redis:
        return redis_store.get_redis(self.app)
