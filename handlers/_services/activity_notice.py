"""The 活动通知 sent on publication, as a push item: the channel policy picks each member's form from it.

An activity becomes a ``PushItem`` with a text variant (always), a voice script (always; read to
退休/临退休 at their cohort's rate) and a news card when there is a link to open (an online activity's
link, or an offline activity's detail page). ``push_render.render_with_closing`` turns it into the
messages of each form, closing with how to register instead of the push's 已读/评价 line.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.models.activities import Activity
from content_packs.schema import Manifest, NewsVariant, Pack, PushItem, TextVariant, VoiceVariant
from handlers._services.activity_text import details, seats, when

# the renderer takes a pack (for files a variant names); a notice names none
NOTICE_PACK = Pack(manifest=Manifest(id="activity-notices", version=1, title="活动通知", kind="push",
                                     topics=("活动",), description="发布活动时按人群的形式发出的通知"),
                   folder=Path(__file__).parent)
NEWS_DESCRIPTION_LIMIT = 120      # characters: a card shows two or three lines of it


def ledger_id(activity_id: int) -> str:
    """An activity's notice (all its messages): the ledger sends it to each member once. Message 0's id from
    when each message had its own, so a notice queued before still reaches nobody twice."""
    return f"activity-{activity_id}-notice-0"


def notice_item(activity: Activity, now: datetime) -> PushItem:
    """The notice of ``activity`` in every form it can take."""
    body = "\n".join(details(activity, now))
    news = None
    if activity.link:
        where = "线上参加" if activity.online else activity.place
        description = f"{when(activity, now)} · {where} · {seats(activity)}"
        if activity.note:
            description += f"。{activity.note}"
        news = NewsVariant(title=f"活动通知：{activity.title}", url=activity.link,
                           description=_clip(description, NEWS_DESCRIPTION_LIMIT))
    return PushItem(id=f"activity-{activity.id}", title=f"活动通知：{activity.title}", topics=("活动",),
                    text=TextVariant(body=body), news=news, voice=VoiceVariant(script=voice_script(activity, now)))


def closing_line(activity: Activity) -> str:
    """The last line of every form: how to register (and, online, the link, which voice cannot read out)."""
    link = f"参加链接：{activity.link}\n" if activity.online and activity.link else ""
    return f"{link}想参加请回复「报名 {activity.id}」；发「活动」查看近期全部活动。"


def voice_script(activity: Activity, now: datetime) -> str:
    """What is read out: short sentences, no brackets and no links (they are in the text line after it)."""
    start = activity.start.astimezone(now.tzinfo)
    moment = f"{start.month}月{start.day}日，星期{'一二三四五六日'[start.weekday()]}，{start.hour}点" + \
        (f"{start.minute}分" if start.minute else "")
    place = "线上参加，链接在下面的文字消息里" if activity.online else f"地点在{activity.place}"
    capacity = "名额不限" if activity.capacity is None else f"名额{activity.capacity}人"
    sentences = [f"活动通知。{activity.title}，{moment}开始，{place}。", f"{capacity}。"]
    if activity.note:
        sentences.append(activity.note if activity.note.endswith(("。", "！", "？")) else activity.note + "。")
    sentences.append(f"想参加的同志，请回复报名{activity.id}。")
    return "".join(sentences)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
