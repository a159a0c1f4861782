"""知晓率 and 题目分析: leaders see how much of each topic their people know; admins find broken questions."""
from __future__ import annotations

from sqlalchemy import func, select

from bot import cohorts, org
from bot.acl import Role
from bot.messages import Reply
from bot.models import Member, OrgUnit
from bot.router import Arg, CommandGroup
from handlers._format import percent
from handlers._services import awareness, item_stats, question_bank
from handlers._services.dates import PERIOD_WORDS, period_named
from handlers._services.goals import get_goals

group = CommandGroup("awareness", title="知晓率")
NAMES_LISTED = 10

LIST_HEAD = "政策知晓率 · {scope} · {period}（在职 {people} 人，目标 {goal}%）"
LIST_INTRO = "各主题从低到高（知晓率 = 答对过该主题题目的人数占比；仍错 = 最近一次作答仍有错题的人数占比）："
LIST_LINE = "· {topic}：{share}（{knowing}/{people}），仍错 {wrong}"
LIST_FOOT = "平均知晓率 {overall}。发送「知晓率 主题名」查看还没答对的人。"
TOPIC_HEAD = "「{topic}」知晓率 · {scope} · {period}"
TOPIC_RATE = "在职 {people} 人，答对过 {knowing} 人（{share}），目标 {goal}%"
TOPIC_AUDIENCE = "本题库面向{cohorts}，"
TOPIC_WRONG = "最近一次作答仍有错题：{wrong} 人（{wrong_share}），可提醒他们发送「错题」复习"
TOPIC_NOT_YET = "尚未答对：{names}{more}"
TOPIC_ALL_KNOW = "范围内的同志都已答对过，很好！"
NO_PEOPLE = "{scope}目前没有在职人员。"
NO_TOPICS = "题库里还没有题目，暂时无法统计知晓率。"
MEMBER_NOT_YET = "政策知晓率：目标 {goal}%，尚未开始测评，发送「答题」就能开始"
MEMBER_RATE = "政策知晓率：今年已答对 {known}/{topics} 个知识点（{share}），目标 {goal}%"
MEMBER_STILL_WRONG = "；{count} 个知识点还有错题，发送「错题」复习"


@group.command("知晓率", aliases=("知晓", "政策知晓率", "awareness"), role=Role.LEADER,
               summary="负责人查看本单位各主题的政策知晓率（默认今年）",
               args=[Arg("words", label="主题 部门 今年|本季度|本月", required=False, rest=True,
                         help="都可不写；主题可以是知识点（如 水法）或题库名（如 大坝安全）")],
               example="知晓率 水法 工程管理科")
def show_awareness(ctx, words=None):
    request, problem = _understand(ctx, (words or "").split())
    if problem:
        return Reply(problem)
    topic, units, period_word = request
    period = period_named(period_word, today=ctx.now.date(), default="今年")
    who = org.active_userids_within(ctx.session, units)
    scope = _scope_label(ctx, units)
    goal = _goal_percent(ctx)
    if topic is None:
        found = awareness.rates(ctx.session, awareness.all_topics(ctx.app), who, period)
        if not found:
            return Reply(NO_TOPICS)
        people = ctx.session.scalar(select(func.count()).select_from(who.subquery()))
        return Reply(NO_PEOPLE.format(scope=scope) if not people else _list(found, scope, period, goal, people))
    rate = awareness.rates(ctx.session, [topic], who, period)[0]
    if not rate.people:
        return Reply(NO_PEOPLE.format(scope=scope))
    names = awareness.not_knowing(ctx.session, topic, who, period, limit=NAMES_LISTED)
    return Reply(_one_topic(rate, names, scope, period, goal, topic.audience))


def _list(found: list[awareness.Rate], scope: str, period, goal: int, people: int) -> str:
    lines = [LIST_HEAD.format(scope=scope, period=period.label, people=people, goal=goal), LIST_INTRO]
    lines += [LIST_LINE.format(topic=r.topic, share=percent(r.share), knowing=r.knowing, people=r.people,
                               wrong=percent(r.wrong_share))
              for r in sorted(found, key=lambda r: (r.share, -r.wrong_share))]
    lines.append(LIST_FOOT.format(overall=percent(awareness.overall(found))))
    return "\n".join(lines)


def _one_topic(rate: awareness.Rate, names: list[str], scope: str, period, goal: int,
               audience: tuple[str, ...]) -> str:
    meant_for = TOPIC_AUDIENCE.format(cohorts="、".join(audience)) if audience else ""
    lines = [TOPIC_HEAD.format(topic=rate.topic, scope=scope, period=period.label),
             meant_for + TOPIC_RATE.format(people=rate.people, knowing=rate.knowing, share=percent(rate.share),
                                           goal=goal),
             TOPIC_WRONG.format(wrong=rate.still_wrong, wrong_share=percent(rate.wrong_share))]
    missing = rate.people - rate.knowing
    if names:
        more = f" 等 {missing} 人" if missing > len(names) else ""
        lines.append(TOPIC_NOT_YET.format(names="、".join(names), more=more))
    else:
        lines.append(TOPIC_ALL_KNOW)
    return "\n".join(lines)


def _understand(ctx, words: list[str]):
    """((topic or None, unit ids, period word or None), None), or (None, what was wrong) in Chinese."""
    topic, units, period_word = None, None, None
    for word in words:
        if word in PERIOD_WORDS and period_word is None:
            period_word = word
        elif units is None and (found := org.find_unit_by_name(ctx.session, word)):
            if len(found) > 1:
                return None, f"有多个「{word}」，请写成「部门/班组」。"
            if found[0].id not in org.units_within(ctx.session, ctx.scope):
                return None, f"抱歉，「{word}」不在您负责的范围内，您可以查看自己负责的单位。"
            units = {found[0].id}
        elif topic is None and (named := awareness.topic_named(word, ctx.app)):
            topic = named
        else:
            return None, (f"没有找到主题或部门「{word}」。主题可以是知识点或题库名，"
                          f"例如：{'、'.join(question_bank.topics(ctx.app)[:4])}。")
    return (topic, units if units is not None else set(ctx.scope), period_word), None


def _scope_label(ctx, units: set[int]) -> str:
    return "、".join(org.unit_path(ctx.session.get(OrgUnit, u)) for u in sorted(units))


def _goal_percent(ctx) -> int:
    return get_goals(ctx.app).defaults.awareness_percent


def member_line(ctx, member: Member, goal_percent: int) -> str:
    """The 政策知晓率 line of 进度 and 我的: the member's share of the topics meant for him (his cohorts'
    banks) answered right this year, or the not-yet wording while he has answered none of them."""
    today = ctx.now.date()
    groups = cohorts.get_rules(ctx.app).cohorts_of(member, today=today)
    topics = awareness.topics_of(question_bank.for_cohorts(groups, ctx.app))
    mine = awareness.of_member(ctx.session, org.only(member.userid), topics, period_named(None, today=today, default="今年"))
    if not mine.started:
        return MEMBER_NOT_YET.format(goal=goal_percent)
    line = MEMBER_RATE.format(known=mine.known, topics=mine.topics, share=percent(mine.share), goal=goal_percent)
    return line + (MEMBER_STILL_WRONG.format(count=mine.still_wrong) if mine.still_wrong else "")


ITEMS_HEAD = "题目分析 · {bank}（{count} 题，首次作答共 {attempts} 人次）"
ITEMS_BROKEN = "疑似有问题的题目 {count} 道："
ITEM_ALL_WRONG = "· {ref}「{text}」：首次作答 {attempts} 人，全部答错（答对率 0%），请核对答案和题干"
ITEM_NEGATIVE = ("· {ref}「{text}」：首次作答 {attempts} 人，答对率 {facility}，区分度 {discrimination:.2f}"
                 "（整体答得好的人反而更常答错，请检查是否有歧义）")
ITEMS_NONE_BROKEN = "没有发现疑似有问题的题目。"
ITEMS_TOO_FEW = "样本不足（首次作答少于 {min} 人）：{count} 道{listed}"
ITEMS_FINE = "其余 {count} 道未见异常。"
ITEMS_NOTE = "答对率按每人第一次作答计算；区分度是该题得分与此人其余题目答对率的相关系数，为负说明题目可能有问题。"
TOO_FEW_LISTED = 10


@group.command("题目分析", aliases=("题目统计", "试题分析", "items"), role=Role.ADMIN,
               summary="管理员查看疑似有问题的题目（全部答错、区分度为负）",
               args=[Arg("bank", label="题库或主题", required=False, rest=True)], example="题目分析 大坝安全")
def analyse_items(ctx, bank=None):
    chosen = awareness.topic_named(bank, ctx.app) if bank else awareness.Topic(
        "全部题库", tuple(bq.ref for bq in question_bank.all_questions(ctx.app)))
    if chosen is None:
        titles = "、".join(p.title for p in question_bank.quiz_packs(ctx.app))
        return Reply(f"没有找到题库或主题「{bank}」。现有题库：{titles}。")
    if not chosen.refs:
        return Reply(NO_TOPICS)
    stats = item_stats.item_stats(ctx.session, list(chosen.refs))
    return Reply(_item_report(ctx, chosen.name, stats))


def _item_report(ctx, bank: str, stats: list[item_stats.ItemStats]) -> str:
    verdicts = {s.ref: s.verdict() for s in stats}
    broken = [s for s in stats if verdicts[s.ref] in (item_stats.Verdict.ALL_WRONG, item_stats.Verdict.NEGATIVE)]
    too_few = [s.ref for s in stats if verdicts[s.ref] is item_stats.Verdict.TOO_FEW]
    lines = [ITEMS_HEAD.format(bank=bank, count=len(stats), attempts=sum(s.attempts for s in stats))]
    lines += [ITEMS_BROKEN.format(count=len(broken))] if broken else [ITEMS_NONE_BROKEN]
    for s in broken:
        template = ITEM_ALL_WRONG if verdicts[s.ref] is item_stats.Verdict.ALL_WRONG else ITEM_NEGATIVE
        lines.append(template.format(ref=s.ref, text=_short_text(ctx, s.ref), attempts=s.attempts,
                                     facility=percent(s.facility or 0), discrimination=s.discrimination or 0))
    if too_few:
        listed = "：" + "、".join(too_few[:TOO_FEW_LISTED]) + (" 等" if len(too_few) > TOO_FEW_LISTED else "")
        lines.append(ITEMS_TOO_FEW.format(min=item_stats.MIN_ATTEMPTS, count=len(too_few), listed=listed))
    lines.append(ITEMS_FINE.format(count=len(stats) - len(broken) - len(too_few)))
    lines.append(ITEMS_NOTE)
    return "\n".join(lines)


def _short_text(ctx, ref: str, width: int = 20) -> str:
    found = question_bank.find(ref, ctx.app)
    text = found.question.text if found else "（题目已删除）"
    return text if len(text) <= width else text[:width] + "…"
