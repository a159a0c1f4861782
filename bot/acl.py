"""Who may run what: roles, where a command works, and the polite denials."""
from __future__ import annotations

from enum import Enum, IntEnum


class Role(IntEnum):
    GUEST = 0      # not on the roster
    MEMBER = 1
    LEADER = 2     # leads a department or team: sees that unit
    ADMIN = 3


class Where(str, Enum):
    ANY = "any"
    GROUP = "group"
    SINGLE = "single"


ROLE_NAMES = {Role.GUEST: "访客", Role.MEMBER: "成员", Role.LEADER: "负责人", Role.ADMIN: "管理员"}


def check(role: Role, is_group: bool, *, required: Role, where: Where) -> str | None:
    """Return a user-facing denial, or None when allowed. No side effects."""
    if where is Where.GROUP and not is_group:
        return "这个命令请在工作群里 @我 使用。"
    if where is Where.SINGLE and is_group:
        return "这个命令涉及个人信息，请私聊我使用。"
    if role < required:
        return f"抱歉，这个命令需要{ROLE_NAMES[required]}权限。如有需要，请联系管理员。"
    return None
