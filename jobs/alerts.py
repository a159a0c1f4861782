"""Tell admins, one-to-one, what needs a person: deliveries WeCom refused (errcodes that retrying
will not fix), and a holiday calendar that is about to run out."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from bot import db, keys, redis_store, workdays
from bot.models import Delivery, RoleGrant
from bot.models.messaging import DeliveryStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.tasks import app_job

MAX_LISTED = 10
# what an admin can do about the errcodes seen most; the rest show the code and WeCom's errmsg
ERRCODE_HINTS = {
    40001: "Secret 不正确，请核对 WECOM_SECRET",
    48002: "应用没有调用这个接口的权限",
    60020: "服务器 IP 不在企业微信的可信 IP 名单里",
    81013: "收件人都不在应用的可见范围内",
    93000: "群机器人的 webhook 地址无效，或机器人已被移出群",
    93004: "群机器人已被停用",
    93008: "机器人不在这个群里",
}


@app_job
def alert_admins_of_failures(*, due: str) -> int:
    """Send admins the deliveries that failed since the last alert; returns how many were reported."""
    redis = redis_store.get_redis()
    session = db.get_session()
    last_id = int(redis.get(keys.ALERTED_UP_TO) or 0)
    failures = list(session.scalars(select(Delivery).where(
        Delivery.status == DeliveryStatus.FAILED.value, Delivery.id > last_id).order_by(Delivery.id)))
    admins = _admins(session)
    if not failures or not admins:
        return 0
    lines = [f"【发送失败提醒】有 {len(failures)} 条消息没能送达："]
    lines += [f"· {f.push_id} → {f.recipient}：{_explain(f)}" for f in failures[:MAX_LISTED]]
    if len(failures) > MAX_LISTED:
        lines.append(f"……另有 {len(failures) - MAX_LISTED} 条，详见日志。")
    enqueue_to_members(f"alert-failures-{failures[-1].id}", admins, Text("\n".join(lines)))
    redis.set(keys.ALERTED_UP_TO, failures[-1].id)
    return len(failures)


@app_job
def warn_admins_of_calendar_end(*, due: str) -> list[int]:
    """From December on, and whenever the current year is missing, tell admins (once per year) that
    the holiday calendar needs updating; until then reminders fall back to Monday to Friday."""
    today = datetime.fromisoformat(due).date()
    years = [today.year] + ([today.year + 1] if today.month == 12 else [])
    missing = [year for year in years if not workdays.covers(year)]
    admins = _admins(db.get_session())
    for year in missing:
        text = (f"【节假日日历提醒】系统里的法定节假日和调休数据还没有 {year} 年的。"
                f"在更新之前，{year} 年的打卡提醒只按周一到周五发送，会漏掉调休上班日、误发节假日。"
                "请让运维人员升级 chinese-calendar 软件包（requirements.txt）后重启。")
        enqueue_to_members(f"calendar-coverage-{year}", admins, Text(text))
    return missing


def _admins(session) -> list[str]:
    ids = set(current_app.config.get("BOT_ADMINS", ()))
    ids |= set(session.scalars(select(RoleGrant.userid).where(RoleGrant.role == "admin")))
    return sorted(ids)


def _explain(failure: Delivery) -> str:
    hint = ERRCODE_HINTS.get(failure.errcode or 0)
    return f"错误码 {failure.errcode}（{hint or failure.error or '未知原因'}）"
