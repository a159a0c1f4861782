"""The CJK font shipped in bot/fonts, served to browsers that have none (a fresh server, headless tests)."""
from __future__ import annotations

from flask import Response, send_file

from bot.fonts import FONT_FILE
CACHE_SECONDS = 7 * 24 * 3600


def font_response() -> Response:
    """The font file; the pages name it last in font-family, so browsers with a CJK font never load it."""
    return send_file(FONT_FILE, mimetype="font/otf", max_age=CACHE_SECONDS)
