"""评价, 👍/👎, 已读 and 内容反馈: members say what they think of pushes; admins see it per item and cohort."""
from __future__ import annotations

import re

from bot import cohorts
from bot.acl import Role
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from handlers._format import percent
from handlers._services import push_feedback as feedback
from handlers._services.push_feedback import EVERYONE, FeedbackRow, RatingInput, RatingOutOfRange

group = CommandGroup("push_feedback", title="内容评价")
MESSAGE_BYTES = 2048            # WeCom's limit for one text message
TITLE_CHARS = 14
_FINISHED = re.compile(r"^(?:我)?(?:已经)?(?:看|读|听)完(?:了|啦)?[!.~]*\s*(?P<rest>.*)$")
_SKIN_TONES = {code: None for code in range(0x1F3FB, 0x1F400)}      # 👍🏻 … 👍🏿 are still 👍

NOT_ON_ROSTER = "您是管理员，但不在名册中，所以没有收到过个人推送。"
RATE_USAGE = ("没看懂要给哪条推送打几分。用法：评价 <推送号> <1-5分>，例如「评价 12 5」「评价12 4分」；"
              "评价最近一条可以直接发「👍」「👎」「好评」「差评」或「评价 5分」。")
OUT_OF_RANGE = "评分请用 1 到 5 分（5 分最好），这次没有记录。"
NOTHING_RECEIVED = "您还没有收到过推送，暂时没有可以评价或标记已读的内容。"
NOT_RECEIVED = "没有找到您收到过的第 {push_id} 号推送，请核对推送号（推送消息里写着），这次没有记录。"
BAD_PUSH_ID = "没看懂推送号「{text}」。标记最近一条发「已读」，指定某条发「已读 12」。"
RATED = "已记下您对第 {push_id} 号推送《{title}》的评价：{rating} 分，谢谢！"
RE_RATED = "已把您对第 {push_id} 号推送《{title}》的评价从 {previous} 分改为 {rating} 分，谢谢！"
SUGGEST_READ = "看完了可以回复「已读」，计入学习时长。"
READ = "已标记第 {push_id} 号推送《{title}》为已读，计入学习 {minutes} 分钟（系统记录），谢谢！"
READ_NO_CREDIT = "已标记第 {push_id} 号推送《{title}》为已读。这条内容已下架，没有可计入的学习时长。"
ALREADY_READ = "第 {push_id} 号推送《{title}》您已经标记过已读了，学习时长只计一次。"
ASK_RATING = "觉得内容怎么样？可以回复「👍」「👎」或「评价 {push_id} 1-5分」。"
REPORT_HEAD = "内容反馈 · {scope}（评分由低到高；👍=4–5分，👎=1–2分；已读率=已读人数/收到人数）"
REPORT_LINE = "{n}. 《{title}》{cohort}：{rated}，已读 {reads}/{receipts}{rate}"
REPORT_TAIL = "…另有 {count} 条"
REPORT_HINT = "发送「内容反馈 人群名」或「内容反馈 条目名」细看。"
NO_FEEDBACK = "{scope}还没有推送记录，暂无反馈可看。"
UNKNOWN_FILTER = "没有叫「{word}」的人群或推送条目。人群可选：{cohorts}；条目可写编号或标题中的几个字。"


@group.command("评价", aliases=("评分", "打分", "rate"), summary="给收到的推送打分（1-5 分），帮助我们改进内容",
               args=[Arg("what", label="推送号 分数", required=False, rest=True, help="如 12 5；只写分数则评价最近一条")],
               example="评价 12 5")
def rate_push(ctx, what=None):
    try:
        parsed = feedback.parse_rating(what or "")
    except RatingOutOfRange:
        return Reply(OUT_OF_RANGE)
    return _rate(ctx, parsed) if parsed else Reply(RATE_USAGE)


@group.command("好评", aliases=("👍", "点赞"), summary="给最近收到的推送点个赞（记 5 分）")
def thumbs_up(ctx):
    return _rate(ctx, RatingInput(None, feedback.THUMBS_UP))


@group.command("差评", aliases=("👎",), summary="最近收到的推送不合适（记 1 分）")
def thumbs_down(ctx):
    return _rate(ctx, RatingInput(None, feedback.THUMBS_DOWN))


@group.listener
def rating_sentence(ctx, text):
    """「给12号打4分」「👍👍」: a rating said without the command word."""
    thumbs = set(text.translate(_SKIN_TONES).replace(" ", ""))
    if thumbs in ({"👍"}, {"👎"}):
        return _rate(ctx, RatingInput(None, feedback.THUMBS_UP if "👍" in thumbs else feedback.THUMBS_DOWN))
    try:
        parsed = feedback.parse_rating_sentence(text)
    except RatingOutOfRange:
        return Reply(OUT_OF_RANGE)
    return _rate(ctx, parsed) if parsed else None


@group.command("已读", aliases=("已阅", "已看", "read"),
               summary="看完推送后回复（也可以说「看完了」），计入学习时长，每条只计一次",
               args=[Arg("which", label="推送号", required=False, rest=True, help="不写则是最近收到的一条")],
               example="已读 12")
def mark_read(ctx, which=None):
    push_id = feedback.parse_push_id(which) if which else None
    if which and push_id is None:
        return Reply(BAD_PUSH_ID.format(text=which[:20]))
    return _read(ctx, push_id)


@group.listener
def finished_sentence(ctx, text):
    """「看完了」「读完了 12」「听完了」: said as a sentence, so no command claims words that start others."""
    found = _FINISHED.match(text)
    if not found:
        return None
    rest = found["rest"]
    push_id = feedback.parse_push_id(rest) if rest else None
    return None if rest and push_id is None else _read(ctx, push_id)


@group.command("内容反馈", aliases=("推送反馈",), role=Role.ADMIN,
               summary="查看各推送条目在各人群中的评分、👍/👎 占比和已读率（低分在前）",
               args=[Arg("word", label="人群|条目", required=False, rest=True, help="不写则看全体")],
               example="内容反馈 青年")
def feedback_report(ctx, word=None):
    rules = cohorts.get_rules(ctx.app)
    groups, item_refs, scope = _report_scope(ctx, rules, (word or "").strip())
    if groups is None:
        return Reply(UNKNOWN_FILTER.format(word=word[:20], cohorts="、".join(rules.names)))
    rows = feedback.feedback_rows(ctx.session, rules, today=ctx.now.date(), groups=groups, item_refs=item_refs)
    if not rows:
        return Reply(NO_FEEDBACK.format(scope=scope))
    lines = [_report_line(ctx, number, row) for number, row in enumerate(rows, start=1)]
    head = [REPORT_HEAD.format(scope=scope)]
    return Reply(_fit(head, lines, [REPORT_HINT] if word is None else []))


def _read(ctx, push_id: int | None) -> Reply:
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    push, refusal = _find_push(ctx, push_id)
    if refusal:
        return Reply(refusal)
    done = feedback.mark_read(ctx.session, push, userid=ctx.user_id, now=ctx.now, app=ctx.app)
    title = feedback.item_title(push.item_ref, ctx.app)
    if done.already:
        return Reply(ALREADY_READ.format(push_id=push.id, title=title))
    said = READ.format(push_id=push.id, title=title, minutes=done.minutes) if done.minutes else \
        READ_NO_CREDIT.format(push_id=push.id, title=title)
    return Reply(said if done.rated else f"{said}\n{ASK_RATING.format(push_id=push.id)}")


def _rate(ctx, parsed: RatingInput) -> Reply:
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    push, refusal = _find_push(ctx, parsed.push_id)
    if refusal:
        return Reply(refusal)
    done = feedback.rate(ctx.session, push, userid=ctx.user_id, rating=parsed.rating, now=ctx.now)
    title = feedback.item_title(push.item_ref, ctx.app)
    if done.previous is not None and done.previous != done.rating:
        said = RE_RATED.format(push_id=push.id, title=title, previous=done.previous, rating=done.rating)
    else:
        said = RATED.format(push_id=push.id, title=title, rating=done.rating)
    return Reply(said if done.read else f"{said}\n{SUGGEST_READ}")


def _find_push(ctx, push_id: int | None):
    """(push, None) for the member's latest or given push, or (None, the polite refusal)."""
    if push_id is None:
        push = feedback.latest_push(ctx.session, ctx.user_id)
        return (push, None) if push else (None, NOTHING_RECEIVED)
    push = feedback.find_received_push(ctx.session, ctx.user_id, push_id)
    return (push, None) if push else (None, NOT_RECEIVED.format(push_id=push_id))


def _report_scope(ctx, rules, word: str):
    """(groups, item refs, scope label) for the report, or (None, None, "") when the word names nothing."""
    if not word or word in (EVERYONE, "全部"):
        return [EVERYONE], None, EVERYONE
    if word in rules.names:
        return [word], None, f"人群「{word}」"
    refs = feedback.items_named(word, ctx.app)
    if not refs:
        return None, None, ""
    return [EVERYONE, *rules.names], refs, f"条目「{word}」"


def _report_line(ctx, number: int, row: FeedbackRow) -> str:
    title = feedback.item_title(row.item_ref, ctx.app)
    title = title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"
    if row.ratings:
        rated = (f"{row.ratings} 人评 均 {row.average:.1f} 分 👍{percent(row.good_share)} "
                 f"👎{percent(row.bad_share)}")
    else:
        rated = "暂无评分"
    rate = f"（{percent(row.read_rate)}）" if row.read_rate is not None else ""
    return REPORT_LINE.format(n=number, title=title, cohort=row.cohort, rated=rated, reads=row.reads,
                              receipts=row.receipts, rate=rate)


def _fit(head: list[str], lines: list[str], foot: list[str]) -> str:
    """Head, as many lines as fit in one message, then "…另有 N 条" for the rest, then the foot."""
    def size(parts: list[str]) -> int:
        return len("\n".join(parts).encode("utf-8"))

    shown: list[str] = []
    for index, line in enumerate(lines):
        left = len(lines) - index - 1
        tail = [REPORT_TAIL.format(count=left)] if left else []
        if size([*head, *shown, line, *tail, *foot]) > MESSAGE_BYTES:
            break
        shown.append(line)
    hidden = len(lines) - len(shown)
    return "\n".join([*head, *shown, *([REPORT_TAIL.format(count=hidden)] if hidden else []), *foot])
