"""预览: an admin sees exactly what each cohort would receive for an item, without sending anything."""
from __future__ import annotations

from bot import cohorts
from bot.acl import Role
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from content_packs import Pack, get_packs
from content_packs.schema import PushItem
from handlers._services import push_policy, push_render
from handlers._services.push_policy import FORM_NAMES

group = CommandGroup("push_preview", title="推送预览")
group.on_init(push_policy.init_app)          # a malformed push_policy.yaml stops the start

OTHERS = "其他职工"
OTHER_WORDS = {"其他", "其他职工", "默认", "其他人"}
REPLY_BUDGET = 1900          # bytes: the app channel's passive reply holds 2048
MAX_CANDIDATES = 8
Match = tuple[Pack, PushItem]


@group.command("预览", aliases=("预览推送", "推送预览", "preview"), role=Role.ADMIN,
               summary="预览一条推送内容在各人群收到的样子（不会发送）",
               args=[Arg("what", label="条目 [人群]", rest=True,
                         help="条目写 内容包/条目编号、条目编号或标题中的几个字；人群可不写")],
               example="预览 push_unit_history/founding 退休")
def preview(ctx, what):
    names = cohorts.get_rules(ctx.app).names
    query, cohort = split_cohort(what, names)
    matches = find_items(get_packs(ctx.app).values(), query)
    if not matches:
        return Reply(f"没有找到条目「{query}」。请写 内容包/条目编号、条目编号，或标题中的几个字。")
    if len(matches) > 1:
        return Reply(_ask_which(query, matches, cohort))
    pack, item = matches[0]
    policy = push_policy.get_policy(ctx.app)
    head = f"预览《{item.title}》（{pack.id}/{item.id}，有{'、'.join(FORM_NAMES[f] for f in item.forms)}）"
    if cohort is not None:
        return Reply(f"{head}\n\n{_section(policy, pack, item, [cohort])}")
    sections = [_section(policy, pack, item, audience) for audience in _audiences(policy, names)]
    order = " > ".join(rule.cohort for rule in policy.rules)
    note = f"同时属于几个人群的职工只收一条，按 {order} 的顺序取第一个。" if order else ""
    return Reply(_fit(head, sections, note, f"{pack.id}/{item.id}"))


def split_cohort(what: str, names: list[str]) -> tuple[str, str | None]:
    """「<条目> [人群]」 → (item query, cohort name, or OTHERS for 其他/默认, or None for every cohort)."""
    words = what.split()
    for index in (-1, 0):
        if len(words) > 1 and (words[index] in names or words[index] in OTHER_WORDS):
            cohort = words.pop(index)
            return " ".join(words), OTHERS if cohort in OTHER_WORDS else cohort
    return what.strip(), None


def find_items(packs, query: str) -> list[Match]:
    """Items of push packs named by ``pack/item``, by item id, by whole title, or else by part of the title."""
    pushes = [pack for pack in packs if pack.kind == "push"]
    pack_id, slash, item_id = query.partition("/")
    if slash:
        return [(pack, item) for pack in pushes if pack.id == pack_id for item in pack.items if item.id == item_id]
    everything = [(pack, item) for pack in pushes for item in pack.items]
    lowered = query.lower()
    for test in (lambda item: item.id == lowered, lambda item: item.title == query,
                 lambda item: lowered in item.title.lower()):
        found = [(pack, item) for pack, item in everything if test(item)]
        if found:
            return found
    return []


def _audiences(policy, names: list[str]) -> list[list[str]]:
    """Who to show: each cohort with a rule (precedence order), then cohorts without one, then everyone else."""
    ruled = [rule.cohort for rule in policy.rules]
    return [[name] for name in ruled] + [[name] for name in names if name not in ruled] + [[OTHERS]]


def _section(policy, pack: Pack, item: PushItem, audience: list[str]) -> str:
    cohorts_of_member = [name for name in audience if name != OTHERS]
    form = policy.choose(item, cohorts_of_member, None)
    rate = policy.voice_wpm_for(cohorts_of_member)
    label = "、".join(audience)
    body = push_render.describe(pack, item, form, rate_wpm=rate)
    return f"【{label}】{FORM_NAMES[form]}\n{body}"


def _fit(head: str, sections: list[str], note: str, ref: str) -> str:
    """Every section in full when the reply can hold it; otherwise each cut to its share, with a pointer."""
    text = "\n\n".join([head, *sections, note]).strip()
    if len(text.encode("utf-8")) <= REPLY_BUDGET:
        return text
    share = (REPLY_BUDGET - len((head + note).encode("utf-8")) - 120) // len(sections)
    cut = [_cut(section, share) for section in sections]
    return "\n\n".join([head, *cut, note, f"内容较长，各人群只显示开头；完整内容请发「预览 {ref} <人群>」。"]).strip()


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:max(limit, 0)].decode("utf-8", "ignore") + "……"


def _ask_which(query: str, matches: list[Match], cohort: str | None) -> str:
    lines = [f"「{query}」对应 {len(matches)} 条内容，请写明是哪一条："]
    lines += [f"· {pack.id}/{item.id}  {item.title}" for pack, item in matches[:MAX_CANDIDATES]]
    if len(matches) > MAX_CANDIDATES:
        lines.append(f"……还有 {len(matches) - MAX_CANDIDATES} 条，请多写几个字。")
    suffix = f" {cohort}" if cohort else ""
    pack, item = matches[0]
    lines.append(f"例如：预览 {pack.id}/{item.id}{suffix}")
    return "\n".join(lines)
