"""The web workers stay small: what only the report jobs and imports need is loaded where it is used.

matplotlib, openpyxl and what they pull in (numpy, Pillow), and jieba's keyword extraction (its IDF table and
part-of-speech dictionary), FFmpeg (PyAV) and the WebSocket client add well over 100 MB to every gunicorn worker that answers callbacks; the worker
RSS target (bench/callback.py) is 160 MB.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "numpy", "openpyxl", "PIL", "jieba.analyse", "jieba.posseg", "av", "websockets")
PROBE = """
import json, sys
from bot import create_app
from bot.config import load_settings
create_app(load_settings({"INSTANCE_PATH": sys.argv[1]}))
print(json.dumps(sorted(name for name in %r if name in sys.modules)))
""" % (HEAVY,)


def test_the_app_as_gunicorn_loads_it_imports_no_charting_spreadsheet_or_keyword_library(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
