"""Voice bench: synthesis and AMR encoding cost per second of audio, against merely reading the PCM.

Run: ``.venv/bin/python -m bench.voice [--rounds 5] [--rate 150]``. Synthesises the 600-character
retiree script from the voice tests, encodes it to AMR-NB, and prints seconds of work per minute of
audio, the real-time factor (target ≥ 100×), the ratio to a baseline read of the same PCM from a
file in the same run, and the time of a cache hit.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bot.voice import MANDARIN, EspeakEngine, voice_parts
from bot.voice.amr import encode_amr
from bot.voice.split import estimated_chars, split_script
from tests.voice.scripts import LONG


def _timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def measure(rounds: int, rate: int) -> dict:
    engine = EspeakEngine()
    engine.synthesise("预热。", voice=MANDARIN, rate=rate)          # load the library and voice once
    parts = [p.strip() for p in split_script(LONG, estimated_chars(55, rate))]
    synth, encode, read, audio = [], [], [], 0.0
    with tempfile.TemporaryDirectory() as folder:
        pcm_file = Path(folder, "speech.pcm")
        for _ in range(rounds):
            seconds, speeches = _timed(lambda: [engine.synthesise(p, voice=MANDARIN, rate=rate) for p in parts])
            synth.append(seconds)
            encode.append(_timed(lambda: [encode_amr(s) for s in speeches])[0])
            pcm_file.write_bytes(b"".join(s.samples for s in speeches))
            read.append(_timed(pcm_file.read_bytes)[0])
            audio = sum(s.seconds for s in speeches)
        cache = Path(folder, "cache")
        miss = _timed(lambda: voice_parts(LONG, rate=rate, engine=engine, cache_dir=cache))[0]
        hit = statistics.median(_timed(lambda: voice_parts(LONG, rate=rate, engine=engine, cache_dir=cache))[0]
                                for _ in range(rounds))
    s, e, r = statistics.median(synth), statistics.median(encode), statistics.median(read)
    return {"audio_s": audio, "synth_s": s, "encode_s": e, "read_s": r, "pipeline_miss_s": miss, "cache_hit_s": hit}


def report(m: dict) -> str:
    per_minute = 60 / m["audio_s"]
    work = m["synth_s"] + m["encode_s"]
    return "\n".join([
        f"audio: {m['audio_s']:.1f} s of Mandarin ({len(LONG)} characters)",
        f"synthesis:  {m['synth_s'] * per_minute:.3f} s per audio minute ({m['audio_s'] / m['synth_s']:.0f}× real time)",
        f"AMR encode: {m['encode_s'] * per_minute:.3f} s per audio minute ({m['encode_s'] / m['synth_s']:.2f}× synthesis)",
        f"end to end: {work * per_minute:.3f} s per audio minute = {m['audio_s'] / work:.0f}× real time (target ≥ 100×)",
        f"full voice_parts (split, synth, encode, verify, store): {m['pipeline_miss_s']:.3f} s, "
        f"{m['audio_s'] / m['pipeline_miss_s']:.0f}× real time",
        f"baseline read of the same PCM: {m['read_s'] * 1000:.2f} ms → synth+encode is {work / m['read_s']:.0f}× that",
        f"cache hit: {m['cache_hit_s'] * 1000:.2f} ms",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=int, default=150)
    args = parser.parse_args()
    print(report(measure(args.rounds, args.rate)))


if __name__ == "__main__":
    main()
