"""From a voice script to AMR clips ready to upload, each ≤ 55 s, synthesised at most once per script.

Splitting guesses part sizes from characters per second at the chosen rate; every part is then
measured after encoding and cut again if it came out too long, so the 60 s WeCom limit holds with a
margin whatever the engine does. Results live on disk under the instance folder, keyed by
(script hash, engine, voice, rate, part index), so a second push of the same item costs a file read.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from bot.voice.amr import amr_seconds, check_voice, encode_amr
from bot.voice.engine import MANDARIN, EspeakEngine, SpeechEngine, VoiceError
from bot.voice.split import estimated_chars, split_script

PART_SECONDS = 55.0          # WeCom allows 60 s; keep a margin
CACHE_FOLDER = "voice-cache"


@dataclass(frozen=True)
class AmrClip:
    """One voice message: AMR-NB bytes, their length, and the part of the script they speak."""

    data: bytes
    seconds: float
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def voice_parts(script: str, *, rate: int, voice: str = MANDARIN, engine: SpeechEngine | None = None,
                cache_dir: Path | None = None) -> list[AmrClip]:
    """The voice messages for ``script`` read at ``rate`` words per minute, in order.

    ``"".join(clip.text for clip in clips) == script``. Defaults: espeak-ng, and the cache in the
    app's instance folder (so this needs an app context unless ``cache_dir`` is given).

    Raises:
        VoiceError: empty script, or the engine failed.
    """
    if not script.strip():
        raise VoiceError("the voice script is empty")
    engine = engine or EspeakEngine()
    folder = _cache_folder(cache_dir, engine.name, voice, rate, script)
    cached = _load(folder)
    if cached is not None:
        return cached
    clips: list[AmrClip] = []
    for part in split_script(script, estimated_chars(PART_SECONDS, rate)):
        clips.extend(_speak(part, engine=engine, voice=voice, rate=rate))
    _store(folder, clips)
    return clips


def _speak(part: str, *, engine: SpeechEngine, voice: str, rate: int) -> list[AmrClip]:
    """Synthesise one part; cut it smaller and try again if the real audio is over ``PART_SECONDS``."""
    data = encode_amr(engine.synthesise(part.strip(), voice=voice, rate=rate))
    seconds = amr_seconds(data)
    if seconds <= PART_SECONDS:
        check_voice(data)
        return [AmrClip(data, seconds, part)]
    size = len("".join(part.split()))
    smaller = int(size * PART_SECONDS / seconds * 0.9)
    if smaller < 1:
        raise VoiceError(f"cannot fit {part[:10]!r}… into {PART_SECONDS:.0f} s")
    return [clip for piece in split_script(part, smaller)
            for clip in _speak(piece, engine=engine, voice=voice, rate=rate)]


# -- the disk cache --------------------------------------------------------------------------------

def _cache_folder(cache_dir: Path | None, engine: str, voice: str, rate: int, script: str) -> Path:
    root = Path(cache_dir) if cache_dir is not None else Path(current_app.instance_path) / CACHE_FOLDER
    digest = hashlib.sha256(script.encode("utf-8")).hexdigest()
    return root / _safe(engine) / _safe(voice) / f"{rate}wpm" / digest


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _load(folder: Path) -> list[AmrClip] | None:
    """The cached clips, or ``None`` when any piece is missing or unreadable (then synthesise again)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        clips = []
        for index, text in enumerate(manifest["texts"]):
            data = (folder / f"part-{index}.amr").read_bytes()
            clips.append(AmrClip(data, check_voice(data), text))
        return clips
    except (OSError, ValueError, KeyError, TypeError, VoiceError):
        return None


def _store(folder: Path, clips: list[AmrClip]) -> None:
    """Write parts first and the manifest last, each atomically, so readers never see half a result."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, clip in enumerate(clips):
        _write_atomically(folder / f"part-{index}.amr", clip.data)
    manifest = {"texts": [clip.text for clip in clips]}
    _write_atomically(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False).encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
