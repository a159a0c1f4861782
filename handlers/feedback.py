"""反馈: members send a remark at any time; admins read the latest with 反馈列表; 需求分析 reads them too."""
from __future__ import annotations

from sqlalchemy import select

from bot import cohorts
from bot.acl import Role
from bot.messages import Reply
from bot.models import Member
from bot.models.surveys import Feedback
from bot.router import Arg, CommandGroup

group = CommandGroup("feedback", title="意见反馈")
MAX_CHARS = 500
LIST_DEFAULT, LIST_MAX = 10, 30
SHOWN_CHARS, REPLY_BYTES = 80, 1800     # a passive reply holds 2048 bytes
THANKS = "收到您的反馈，谢谢！管理员会认真看，也会用来安排以后的学习内容。"
TOO_LONG = "反馈最多 {limit} 个字，您写了 {length} 个字，请精简后再发。"
NOT_ON_ROSTER = "您是管理员，但不在名册中；反馈请用名册里的账号发送。"
NONE_YET = "还没有收到意见反馈。"


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= LIST_MAX:
        raise ValueError(f"应为 1–{LIST_MAX} 之间的数字")
    return value


@group.command("反馈", aliases=("意见反馈", "提意见", "提建议", "意见", "建议", "feedback"),
               args=(Arg("text", label="内容", rest=True),),
               summary="随时给我们提意见、建议或学习需求", example="反馈 希望多讲讲防汛应急预案的实际操作")
def send_feedback(ctx, text: str):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    text = text.strip()
    if len(text) > MAX_CHARS:
        return Reply(TOO_LONG.format(limit=MAX_CHARS, length=len(text)))
    names = cohorts.get_rules(ctx.app).cohorts_of(ctx.member, today=ctx.now.date())
    ctx.session.add(Feedback(userid=ctx.user_id, text=text, cohorts=",".join(names),
                             department=ctx.member.department.name, created_at=ctx.now))
    return Reply(THANKS)


@group.command("反馈列表", aliases=("意见列表", "查看反馈", "feedbacklist"), role=Role.ADMIN,
               args=(Arg("count", label="条数", type=_count, required=False),),
               summary="看最近收到的意见反馈（默认 10 条）", example="反馈列表 20")
def list_feedback(ctx, count: int | None = None):
    rows = ctx.session.execute(
        select(Feedback, Member.name).outerjoin(Member, Member.userid == Feedback.userid)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(count or LIST_DEFAULT)).all()
    if not rows:
        return Reply(NONE_YET)
    lines = []
    for feedback, name in rows:
        who = f"{name or feedback.userid}·{feedback.department}" if feedback.department else (name or feedback.userid)
        text = feedback.text if len(feedback.text) <= SHOWN_CHARS else feedback.text[:SHOWN_CHARS] + "…"
        line = f"{feedback.created_at:%m-%d %H:%M} {who}：{text}"
        if len("\n".join([*lines, line]).encode("utf-8")) > REPLY_BYTES:
            break                   # one chat message: the newest that fit
        lines.append(line)
    return Reply("\n".join([f"最近 {len(lines)} 条意见反馈（新的在前）：", *lines]))
