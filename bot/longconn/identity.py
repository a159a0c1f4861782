"""Who a long-connection sender is: a roster userid, an id an admin bound to one, or an unbound sender.

Some tenants send an opaque ``from.userid`` (wecom-longconn.md §13). A confirmed binding turns it into
the roster member's userid; the conversation id (``chat_id``) stays the id WeCom knows, so replies
and pushes still reach it. An unknown sender's text becomes the ``unbound_sender`` event, which the
binding capability answers (asks once to bind, takes ``绑定 <工号>``); without that capability the
message goes on as it is and gets the usual "not on the roster" answer.
"""
from __future__ import annotations

from dataclasses import replace

from flask import Flask
from sqlalchemy.orm import Session

from bot import roles
from bot.acl import Role
from bot.messages import Inbound, Kind
from bot.models import Member
from bot.models.bindings import BindingStatus, SenderBinding
from bot.router import get_registry

UNBOUND_EVENT = "unbound_sender"


def resolve(app: Flask, session: Session, inbound: Inbound) -> Inbound:
    """The inbound as the pipeline should see it (sender mapped, or turned into the unbound event)."""
    if inbound.kind is not Kind.TEXT or session.get(Member, inbound.sender_id) is not None:
        return inbound
    binding = session.get(SenderBinding, inbound.sender_id)
    if binding is not None and binding.status == BindingStatus.CONFIRMED.value and binding.userid:
        return replace(inbound, sender_id=binding.userid)
    standing = roles.resolve(session, inbound.sender_id, on_roster=False,
                             config_admins=tuple(app.config.get("BOT_ADMINS", ())))
    if standing.role > Role.GUEST or UNBOUND_EVENT not in get_registry(app).events:
        return inbound
    return replace(inbound, kind=Kind.EVENT, event=UNBOUND_EVENT)
