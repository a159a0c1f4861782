"""打卡: the daily check-in, with an optional line of what was learned today."""
from __future__ import annotations

import re

from bot.messages import Reply
from bot.router import Arg, CommandGroup
from handlers._services import checkins as service

group = CommandGroup("checkins", title="每日打卡")
NOTE_LIMIT = 500
# "签到 3 1234" / "打卡 3号 1234": an activity number and its 4-digit sign-in code
ACTIVITY_SIGN_IN = re.compile(r"^(?P<number>\d{1,6})\s*号?\s+(?P<code>\d{4})$")


@group.command("打卡", aliases=("签到", "checkin", "daka"), summary="今日打卡，可附一句学习心得",
               args=[Arg("note", label="学习心得", required=False, rest=True)],
               example="打卡 今天学习了防汛应急预案")
def checkin(ctx, note=None):
    activity_sign_in = ACTIVITY_SIGN_IN.match(note or "")
    if activity_sign_in:          # 签到 3 1234: the activity's sign-in code, not a daily check-in note
        from handlers.activities import sign_in

        return sign_in(ctx, number=int(activity_sign_in["number"]), code=activity_sign_in["code"])
    note = (note or "")[:NOTE_LIMIT]
    result = service.record(ctx.session, userid=ctx.user_id, now=ctx.now, note=note,
                            channel=ctx.inbound.channel, msg_id=ctx.inbound.msg_id)
    if not result.recorded:
        return Reply(f"{ctx.display_name}，您今天已经打过卡啦，不用重复打卡。"
                     f"已连续打卡 {result.streak} 天，本月共 {result.month_count} 次。明天见！")
    lines = [f"打卡成功！{ctx.display_name}，已连续打卡 {result.streak} 天，本月第 {result.month_count} 次。"]
    if note:
        lines.append(f"今日心得已记下：{note}")
    else:
        lines.append("下次可以附上一句学习心得，例如「打卡 今天学习了防汛应急预案」。")
    return Reply("\n".join(lines))
