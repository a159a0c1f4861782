"""The CJK font shipped with the bot (a GB 2312 subset of Noto Sans CJK SC, SIL OFL 1.1; see ABOUT.md)."""
from pathlib import Path

FONT_FILE = Path(__file__).resolve().parent / "SzzsSansSC-Regular.otf"
