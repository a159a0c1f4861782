"""Rendering one push item in one form as the messages members receive, and describing it for 预览.

``render`` returns bot.outgoing values in sending order, each within WeCom's limits, the last one always
inviting feedback. Voice synthesis is slow, so only worker jobs render voice; ``describe`` tells an admin
what would be sent (voice: script length, parts and duration) without synthesising anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.outgoing import APP_MARKDOWN_LIMIT, TEXT_LIMIT, Article, Image, Markdown, Message, News, Text, Voice, \
    split_text
from bot.voice import DEFAULT_WPM, check_voice, voice_parts
from bot.voice.clips import PART_SECONDS
from bot.voice.split import CHARS_PER_SECOND_AT_175, estimated_chars, split_script
from content_packs.schema import FORMS, Pack, PushItem

# room kept in each piece of a long body for the "（续 2/3）" mark
_CONTINUED_ROOM = 32


def feedback_line(push_id: int | None) -> str:
    """The closing invitation; ``None`` (a preview) shows the placeholder people will see replaced."""
    number = push_id if push_id is not None else "<推送号>"
    return f"读完请回复「已读」，或「评价 {number} 1-5」给这条内容打分。"


# A group post is read by everyone in the chat at once: a news card or markdown first. Group robot
# webhooks also take voice (upload_media?type=voice, AMR) and images (wecom-protocol.md §5), so an
# item with only those variants is still posted in them.
GROUP_FORMS = ("news", "text", "video", "voice", "image")


def group_form(item: PushItem) -> str:
    """The form a group post of ``item`` takes: the first of GROUP_FORMS the item has."""
    return next(form for form in GROUP_FORMS if getattr(item, form) is not None)


def render(pack: Pack, item: PushItem, form: str, *, push_id: int, rate_wpm: int | None = None) -> list[Message]:
    """The messages that send ``item`` of ``pack`` in ``form``, in order.

    Args:
        form: one of ``item.forms``.
        push_id: the 推送号 members quote in 评价.
        rate_wpm: reading speed for voice (the policy's rate for the cohort); bot.voice's default when None.

    Raises:
        ValueError: the item has no variant in ``form``.
        VoiceError: synthesis failed, or a shipped audio file breaks WeCom's voice limits.
    """
    return render_with_closing(pack, item, form, closing=feedback_line(push_id), rate_wpm=rate_wpm)


def render_with_closing(pack: Pack, item: PushItem, form: str, *, closing: str,
                        rate_wpm: int | None = None) -> list[Message]:
    """Like ``render``, but the messages end with ``closing`` instead of the 已读/评价 invitation
    (an activity notice asks people to 报名, not to rate it).

    Raises:
        ValueError: the item has no variant in ``form``.
        VoiceError: synthesis failed.
    """
    _require(item, form)
    if form == "voice":
        return _voice(pack, item, closing, rate_wpm or DEFAULT_WPM)
    return _RENDERERS[form](pack, item, closing)


def _require(item: PushItem, form: str) -> None:
    if form not in FORMS or getattr(item, form) is None:
        raise ValueError(f"item {item.id!r} has no {form!r} variant (it has {', '.join(item.forms)})")


def _opens_with_title(body: str, title: str) -> bool:
    """Authors often start the body with the title as a heading; then it is not repeated."""
    first = body.splitlines()[0] if body else ""
    return first.strip().strip("#*【】 ").strip() == title.strip()


def _text(pack: Pack, item: PushItem, feedback: str) -> list[Message]:
    """Markdown: the title, the body, the video link when there is one, then the feedback line."""
    body = item.text.body.strip()
    lines = [body] if _opens_with_title(body, item.title) else [f"**{item.title}**", "", body]
    if item.video is not None:
        lines += ["", f"视频：[{item.video.summary}]({item.video.url})"]
    lines += ["", f"> {feedback}"]
    content = "\n".join(lines)
    if len(content.encode("utf-8")) <= APP_MARKDOWN_LIMIT:
        return [Markdown(content)]
    # a long body goes in several messages cut at line ends, each marked so readers know more follows
    pieces = split_text(content, APP_MARKDOWN_LIMIT - _CONTINUED_ROOM)
    return [Markdown(piece if number == 1 else f"（续 {number}/{len(pieces)}）\n{piece}")
            for number, piece in enumerate(pieces, start=1)]


def _news(pack: Pack, item: PushItem, feedback: str) -> list[Message]:
    news = item.news
    card = News((Article(title=news.title, url=news.url, description=news.description, picurl=news.cover or ""),))
    return [card, Text(feedback)]


def _video(pack: Pack, item: PushItem, feedback: str) -> list[Message]:
    content = f"【{item.title}】\n{item.video.summary}\n观看视频：{item.video.url}\n{feedback}"
    return [Text(piece) for piece in split_text(content, TEXT_LIMIT)]


def _image(pack: Pack, item: PushItem, feedback: str) -> list[Message]:
    image = item.image
    caption = f"【{item.title}】{image.caption or ''}"
    return [Image((pack.folder / image.file).read_bytes()), Text(f"{caption}\n{feedback}")]


def _voice(pack: Pack, item: PushItem, feedback: str, rate: int) -> list[Message]:
    """The AMR parts, then one line saying what they were and inviting feedback."""
    voice = item.voice
    if voice.file is not None:
        data = (pack.folder / voice.file).read_bytes()
        clips = [(data, check_voice(data))]
    else:
        clips = [(clip.data, clip.seconds) for clip in voice_parts(voice.script, rate=rate)]
    total = sum(seconds for _, seconds in clips)
    parts = [Voice(data, filename=f"{item.id}-{number}.amr") for number, (data, _) in enumerate(clips, start=1)]
    return [*parts, Text(f"以上是语音《{item.title}》，共 {len(parts)} 段，约 {_duration(total)}。{feedback}")]


_RENDERERS = {"text": _text, "news": _news, "video": _video, "image": _image}


# -- previews ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoicePlan:
    """What synthesising a script would give, estimated the way bot.voice first cuts it."""

    characters: int
    parts: int
    seconds: float


def plan_voice(script: str, rate_wpm: int) -> VoicePlan:
    """Length, number of voice messages and duration of ``script`` read at ``rate_wpm``, without synthesis."""
    characters = len("".join(script.split()))
    parts = len(split_script(script, estimated_chars(PART_SECONDS, rate_wpm)))
    seconds = characters / (CHARS_PER_SECOND_AT_175 * rate_wpm / 175)
    return VoicePlan(characters, parts, seconds)


def describe(pack: Pack, item: PushItem, form: str, *, rate_wpm: int | None = None) -> str:
    """What a member would receive, as readable text for 预览; voice is estimated, never synthesised."""
    _require(item, form)
    feedback = feedback_line(None)
    if form != "voice":
        return "\n".join(_describe_message(message) for message in _RENDERERS[form](pack, item, feedback))
    voice, rate = item.voice, rate_wpm or DEFAULT_WPM
    if voice.file is not None:
        seconds = check_voice((pack.folder / voice.file).read_bytes())
        head = f"[语音] 录音文件 {voice.file}，1 段，约 {_duration(seconds)}"
    else:
        plan = plan_voice(voice.script, rate)
        head = (f"[语音] 朗读稿 {plan.characters} 字，每分钟 {rate} 字词，预计 {plan.parts} 段，"
                f"约 {_duration(plan.seconds)}")
    return f"{head}\n[文字] 以上是语音《{item.title}》……{feedback}"


def _describe_message(message: Message) -> str:
    if isinstance(message, News):
        article = message.articles[0]
        cover = f"\n  封面：{article.picurl}" if article.picurl else ""
        return f"[图文卡片] {article.title}\n  {article.description}\n  链接：{article.url}{cover}"
    if isinstance(message, Image):
        return f"[图片] {len(message.data) // 1024 or 1} KB"
    if isinstance(message, Markdown):
        return message.content
    return message.content if isinstance(message, Text) else f"[{message.msgtype}]"


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} 秒"
    return f"{minutes} 分 {rest} 秒" if rest else f"{minutes} 分钟"
