"""Broken push packs: a copy of a real push pack with one bad item added; each error names file, line and field."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from textwrap import dedent

import pytest

import content_packs
from bot.voice.amr import HEADER
from content_packs.__main__ import main as module_main

from .test_pack_errors import errors_of, line_of, where

REAL_PACK = content_packs.PACKS_ROOT / "push_unit_history"
ITEMS = "items.yaml"
SPEECH_FRAME = bytes([0x3C]) + bytes(31)      # one 20 ms AMR-NB frame at 12.2 kbit/s (frame type 7)


def pack_with_item(tmp_path: Path, item: str) -> tuple[Path, int]:
    """A copy of REAL_PACK with ``item`` appended to items.yaml; returns the folder and the item's index."""
    folder = tmp_path / REAL_PACK.name
    shutil.copytree(REAL_PACK, folder)
    index = len(content_packs.load_pack(folder).items)          # the copy is valid before we break it
    items = folder / ITEMS
    items.write_text(items.read_text("utf-8").rstrip("\n") + "\n\n" + dedent(item), "utf-8")
    return folder, index


def voice_file_item(tmp_path: Path, data: bytes) -> tuple[Path, int]:
    folder, index = pack_with_item(tmp_path, """\
        - id: recorded-talk
          title: 老所长讲建库
          topics: [所史]
          voice:
            file: audio/talk.amr
        """)
    (folder / "audio").mkdir()
    (folder / "audio" / "talk.amr").write_bytes(data)
    return folder, index


def error_at(folder: Path, needle: str, field: str, message: str) -> str:
    return f"{where(folder, ITEMS)}:{line_of(folder, ITEMS, needle)}: {field}: {message}"


def test_bad_url(tmp_path):
    folder, index = pack_with_item(tmp_path, """\
        - id: bad-link
          title: 建库纪实
          topics: [所史]
          news:
            title: 建库纪实
            description: 一九五八年的冬天。
            url: www.example.org/history
        """)
    assert errors_of(folder) == [error_at(folder, "url: www.example.org/history", f"items[{index}].news.url",
                                          "应为 http:// 或 https:// 开头的链接")]


@pytest.mark.parametrize(("voice", "needle"), [
    ("voice:    # both\n    script: 一九五八年，建库开始。\n    file: audio/talk.amr\n", "voice:    # both"),
    ("voice: {}    # neither\n", "voice: {}    # neither"),
], ids=["both", "neither"])
def test_voice_needs_exactly_one_of_script_and_file(tmp_path, voice, needle):
    folder, index = pack_with_item(tmp_path, "- id: voice-sources\n  title: 建库口述\n  topics: [所史]\n  " + voice)
    assert errors_of(folder) == [error_at(folder, needle, f"items[{index}].voice",
                                          "语音要写 script（朗读稿）或 file（录音文件）之一，且只写一个")]


def test_item_without_any_form(tmp_path):
    folder, index = pack_with_item(tmp_path, """\
        - id: no-form
          title: 没写内容的条目
          topics: [所史]
        """)
    assert errors_of(folder) == [error_at(folder, "- id: no-form", f"items[{index}]",
                                          "至少要有一种形式：text、news、video、voice 或 image")]


@pytest.mark.parametrize(("form", "extra"), [("image", "    caption: 大坝合龙\n"), ("voice", "")])
def test_missing_file(tmp_path, form, extra):
    folder, index = pack_with_item(tmp_path, f"- id: lost-file\n  title: 合龙那天\n  topics: [所史]\n"
                                             f"  {form}:\n    file: media/hele.bin\n{extra}")
    assert errors_of(folder) == [error_at(folder, "file: media/hele.bin", f"items[{index}].{form}.file",
                                          "找不到文件 media/hele.bin（相对于内容包文件夹）")]


def test_unknown_field(tmp_path):
    folder, index = pack_with_item(tmp_path, """\
        - id: typo
          title: 建库纪实
          topics: [所史]
          text:
            body: 一九五八年的冬天，建库开始。
          colour: red
        """)
    assert errors_of(folder) == [error_at(folder, "colour: red", f"items[{index}].colour", "不认识这一项（拼写错误？）")]


def test_a_valid_recording_loads(tmp_path):
    folder, _index = voice_file_item(tmp_path, HEADER + SPEECH_FRAME * 50 * 30)      # 30 s
    item = content_packs.load_pack(folder).items[-1]
    assert item.voice.file == "audio/talk.amr"


@pytest.mark.parametrize(("data", "why"), [
    (os.urandom(3 * 1024 * 1024), "有 3.0 MB，企业微信的语音不能超过 2 MB"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64),
     "不是 AMR 录音（文件开头没有 #!AMR 标记），企业微信只收 AMR 格式的语音，请先转换"),
    (HEADER + SPEECH_FRAME * 3 + SPEECH_FRAME[:10], "的 AMR 数据不完整或已损坏，请重新导出"),
    (HEADER, "里没有声音"),
    (HEADER + SPEECH_FRAME * 50 * 61, "长 61.0 秒，企业微信的语音不能超过 60 秒，请剪短或分成几条"),
], ids=["3MB-random", "wav", "cut-frame", "empty", "61s"])
def test_a_recording_wecom_would_refuse(tmp_path, data, why):
    folder, index = voice_file_item(tmp_path, data)
    assert errors_of(folder) == [error_at(folder, "file: audio/talk.amr", f"items[{index}].voice.file",
                                          f"语音文件 audio/talk.amr {why}")]


def test_check_command_reports_a_random_bytes_recording(tmp_path, capsys):
    folder, index = voice_file_item(tmp_path / "packs", os.urandom(3 * 1024 * 1024))
    assert module_main(["check", str(folder.parent)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [error_at(folder, "file: audio/talk.amr", f"items[{index}].voice.file",
                                         "语音文件 audio/talk.amr 有 3.0 MB，企业微信的语音不能超过 2 MB")]
    assert "共 1 处错误" in err
