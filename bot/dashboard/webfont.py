"""The CJK font shipped in bot/fonts, served to browsers that have none (a fresh server, headless tests)."""
from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

FONT_FILE = Path(__file__).resolve().parent.parent / "fonts" / "SzzsSansSC-Regular.otf"
CACHE_SECONDS = 7 * 24 * 3600


def font_response() -> Response:
    """The font file; the pages name it last in font-family, so browsers with a CJK font never load it."""
    return send_file(FONT_FILE, mimetype="font/otf", max_age=CACHE_SECONDS)
