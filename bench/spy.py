"""Optional: sample the bot's gunicorn workers with py-spy under load and summarise where a request's time goes."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

# only samples inside this frame are request work (HTTP parsing, the app, the response);
# the rest is a sync worker waiting in accept()/select() for the next connection
REQUEST_FRAME = re.compile(r"^(?:SyncWorker\.)?handle \(gunicorn/workers/sync\.py\)$")
# sample the wall clock, not just CPU: waiting on Redis or on SQLite's write lock is part of a request too
SAMPLE_RATE = 250


def find_py_spy(hint: str) -> str | None:
    """``hint`` is a path to py-spy or "auto" (look on PATH)."""
    return shutil.which("py-spy") if hint == "auto" else (hint if Path(hint).exists() else None)


def start(py_spy: str, master_pid: int, seconds: int, output: Path) -> subprocess.Popen:
    """Record every worker of ``master_pid`` (its subprocesses) for ``seconds`` into a raw collapsed-stack file."""
    argv = [py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--idle", "--nolineno",
            "--rate", str(SAMPLE_RATE), "--duration", str(seconds), "--format", "raw", "--output", str(output)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def summarize(raw_file: Path, *, top: int = 25) -> str:
    """Inclusive and own share of request time per function, from py-spy's raw output."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in raw_file.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        inside = next((i for i, frame in enumerate(frames) if REQUEST_FRAME.match(frame)), None)
        if inside is None:
            continue
        frames = frames[inside:]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return "py-spy: no samples inside gunicorn's SyncWorker.handle"
    lines = [f"py-spy: {total} samples inside gunicorn's SyncWorker.handle (wall clock, both workers)",
             "  inclusive  function (file)"]
    lines += [f"  {n / total:8.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["  own time   function (file)"]
    lines += [f"  {n / total:8.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
