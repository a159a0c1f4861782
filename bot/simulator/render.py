"""What the simulator page shows: a passive reply or a stand-in record turned into one chat bubble.

A bubble is a small dict the page draws as it is: ``kind`` (text, markdown, news, image, file, voice,
video, card) plus the fields that kind needs. Markdown becomes HTML here, escaped first, so the page
never puts message text into the DOM as markup.
"""
from __future__ import annotations

import html
import json
import re

from defusedxml import ElementTree as SafeET

from bot.standin import store

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`\n]+)`")
_FONT = re.compile(r'&lt;font color=&quot;(info|comment|warning)&quot;&gt;(.*?)&lt;/font&gt;')
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def markdown_html(source: str) -> str:
    """WeCom's markdown subset (headings, bold, links, code, quotes, lists, coloured text) as safe HTML."""
    lines = []
    for raw in source.splitlines():
        line = _inline(html.escape(raw))
        heading = _HEADING.match(line)
        if heading:
            level = min(len(heading.group(1)) + 2, 6)
            lines.append(f"<h{level}>{heading.group(2)}</h{level}>")
        elif line.startswith("&gt; ") or line == "&gt;":
            lines.append(f"<blockquote>{line[5:]}</blockquote>")
        elif re.match(r"^\s*[-*] ", line):
            lines.append(f"<div class=\"li\">• {line.split(' ', 1)[1] if ' ' in line.strip() else ''}</div>")
        else:
            lines.append(f"<div>{line or '&nbsp;'}</div>")
    return "".join(lines)


def _inline(escaped: str) -> str:
    escaped = _LINK.sub(lambda m: f'<a href="{m.group(2)}" target="_blank" rel="noopener">{m.group(1)}</a>', escaped)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _FONT.sub(r'<span class="font-\1">\2</span>', escaped)


def text_bubble(content: str) -> dict:
    return {"kind": "text", "text": content}


def markdown_bubble(content: str) -> dict:
    return {"kind": "markdown", "html": markdown_html(content)}


def passive_reply(plaintext: str) -> dict:
    """The bubble for a decrypted passive reply (smart bot JSON, or robot/app XML)."""
    if plaintext.lstrip().startswith("{"):
        data = json.loads(plaintext)
        msgtype = data.get("msgtype")
        part = data.get(msgtype) if isinstance(data.get(msgtype), dict) else {}
        if msgtype in ("stream", "markdown"):          # the smart bot's stream content is markdown
            return markdown_bubble(str(part.get("content", "")))
        if msgtype == "text":
            return text_bubble(str(part.get("content", "")))
        title = ((part.get("main_title") or {}).get("title")) if msgtype == "template_card" else None
        return {"kind": "card", "title": title or msgtype or "", "text": ""}
    root = SafeET.fromstring(plaintext.encode("utf-8"))
    msgtype = root.findtext("MsgType") or "text"
    if msgtype == "markdown":
        return markdown_bubble(root.findtext("Markdown/Content") or "")
    if msgtype == "news":
        return {"kind": "news", "articles": [
            {"title": a.findtext("Title") or "", "description": a.findtext("Description") or "",
             "url": a.findtext("Url") or "", "picurl": a.findtext("PicUrl") or ""}
            for a in root.iterfind("Articles/item")]}
    text = root.findtext("Text/Content") or root.findtext("Content") or ""
    visible = root.findtext("VisibleToUser")
    return text_bubble(f"{text}\n（仅 {visible} 可见）" if visible else text)


def stand_in_record(record: dict, *, media_url) -> dict:
    """The bubble for one ``/standin/messages`` record.

    Args:
        record: the stand-in's record (``msgtype`` and the ``body`` the bot sent).
        media_url: ``media_url(media_id, kind)`` → the URL the page loads the media from.
    """
    msgtype = record.get("msgtype") or ""
    body = record.get("body") or {}
    part = body.get(msgtype) if isinstance(body.get(msgtype), dict) else {}
    if msgtype == "text":
        return text_bubble(str(part.get("content", "")))
    if msgtype in ("markdown", "markdown_v2"):
        return markdown_bubble(str(part.get("content", "")))
    if msgtype in ("news", "mpnews"):
        return {"kind": "news", "articles": [_article(a, media_url) for a in part.get("articles", [])]}
    if msgtype == "textcard":
        return {"kind": "news", "articles": [{"title": part.get("title", ""), "description": part.get("description", ""),
                                              "url": part.get("url", ""), "picurl": ""}]}
    if msgtype == "image":
        if part.get("base64"):              # a group robot sends the picture itself
            mime = "image/png" if part["base64"].startswith("iVBOR") else "image/jpeg"
            return {"kind": "image", "src": f"data:{mime};base64,{part['base64']}"}
        return {"kind": "image", "src": media_url(part.get("media_id", ""), "image")}
    if msgtype in ("file", "voice", "video"):
        return _media_bubble(msgtype, part, media_url)
    if msgtype == "template_card":
        return {"kind": "card", "title": ((part.get("main_title") or {}).get("title")) or "模板卡片",
                "text": ((part.get("main_title") or {}).get("desc")) or ""}
    return text_bubble(json.dumps(body, ensure_ascii=False)[:500])


def _article(article: dict, media_url) -> dict:
    picurl = article.get("picurl") or ""
    if not picurl and article.get("thumb_media_id"):
        picurl = media_url(article["thumb_media_id"], "image")
    return {"title": article.get("title", ""), "description": article.get("description") or article.get("digest", ""),
            "url": article.get("url") or article.get("content_source_url", ""), "picurl": picurl}


def _media_bubble(kind: str, part: dict, media_url) -> dict:
    media_id = part.get("media_id", "")
    found = store.find_media(media_id) if media_id else None
    bubble = {"kind": kind, "src": media_url(media_id, kind), "name": found.filename if found else media_id,
              "size": len(found.data) if found else 0}
    if kind == "video":
        bubble.update(title=part.get("title", ""), description=part.get("description", ""))
    return bubble
