"""Maximum throughput with wrk: write the requests to a file, replay them with a Lua script, parse the report."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.callbacks import CallbackRequest
from bench.procs import GunicornServer, cpu_sample

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_requests.lua"
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_DURATION = r"(\d+(?:\.\d+)?)(us|ms|s|m)\b"


@dataclass(frozen=True)
class WrkSettings:
    threads: int = 2
    connections: int = 8
    seconds: int = 5


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured; ``sent`` and the status counts come from the Lua script."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    completed: int
    sent: int
    ok: int
    other: int
    exhausted: bool
    socket_errors: str
    report: str


MEASURE = WrkSettings(threads=2, connections=8, seconds=5)      # a measured run
WARM_UP = WrkSettings(threads=2, connections=8, seconds=2)      # before it, on the same server


def ensure_wrk() -> str:
    """Path of wrk, installing the Debian package once when we are root; exits with an instruction otherwise."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found; installing the Debian package (apt-get install -y wrk) …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, stdout=subprocess.DEVNULL)
        path = shutil.which("wrk")
    if not path:
        sys.exit("wrk is required: install it with `sudo apt-get install -y wrk` and run again")
    return path


def write_requests(path: Path, requests: list[CallbackRequest]) -> None:
    """One request per line, "<path>\\t<body>": the format wrk_requests.lua reads."""
    with open(path, "w", encoding="utf-8") as out:
        for req in requests:
            body = req.body.decode("utf-8")
            # a tab or newline in either part would split the request in two
            assert "\t" not in req.path + body and "\n" not in req.path + body
            out.write(f"{req.path}\t{body}\n")


def run(base_url: str, requests_file: Path, per_thread: int, *, settings: WrkSettings, wrap: bool) -> WrkResult:
    """Run wrk once against ``base_url``; each thread sends from its own ``per_thread`` slice of the file."""
    argv = [ensure_wrk(), f"-t{settings.threads}", f"-c{settings.connections}", f"-d{settings.seconds}s",
            "--latency", "-s", str(LUA_SCRIPT), base_url, "--", str(requests_file), str(per_thread),
            "wrap" if wrap else "stop"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=settings.seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)


def run_with_cpu(server: GunicornServer, path: Path, per_thread: int, *, wrap: bool) -> tuple[WrkResult, dict]:
    """One measured wrk run, plus the workers' CPU per request and how busy the machine was.

    Idle CPU during a saturating run means the server waits (locks, I/O), not computes.
    """
    workers = server.worker_pids()
    before = cpu_sample(workers)
    result = run(server.base_url, path, per_thread, settings=MEASURE, wrap=wrap)
    worker_s, busy = cpu_sample(workers).since(before)
    per_request_ms = worker_s / max(result.completed, 1) * 1000
    return result, dict(worker_ms_per_request=round(per_request_ms, 3), machine_busy=round(busy, 3))


def check_all_ok(phase: str, result: WrkResult) -> None:
    """A run with errors measures the error path, not the check-in: refuse to report it."""
    if result.other:
        raise RuntimeError(f"{phase}: {result.other} of {result.completed} responses were not 200")
    if result.socket_errors:
        print(f"WARNING {phase}: socket errors: {result.socket_errors}", flush=True)
    if result.exhausted:
        print(f"WARNING {phase}: a wrk thread ran out of pre-generated requests; the rate is understated",
              flush=True)


def parse(report: str) -> WrkResult:
    """Pull requests/s, p50, p99 and counts out of wrk's --latency report and the script's BENCH line."""
    counts = dict(re.findall(r"(\w+)=(\d+)", _line(report, r"^BENCH .*$")))
    errors = re.search(r"Socket errors: (.*)", report)
    return WrkResult(
        requests_per_s=float(_line(report, r"Requests/sec:\s+([\d.]+)", group=1)),
        p50_ms=_ms(_line(report, r"^\s+50%\s+" + _DURATION)),
        p99_ms=_ms(_line(report, r"^\s+99%\s+" + _DURATION)),
        completed=int(_line(report, r"(\d+) requests in", group=1)),
        # wrk calls request() once on the first thread to check the script and never sends that one
        sent=int(counts["sent"]) - 1,
        ok=int(counts["ok"]),
        other=int(counts["other"]),
        exhausted=counts["exhausted"] != "0",
        socket_errors=errors.group(1).strip() if errors else "",
        report=report,
    )


def _line(report: str, pattern: str, group: int = 0) -> str:
    match = re.search(pattern, report, re.MULTILINE)
    if not match:
        raise RuntimeError(f"unexpected wrk output (no match for {pattern!r}):\n{report}")
    return match.group(group)


def _ms(text: str) -> float:
    value, unit = re.search(_DURATION, text).groups()
    return float(value) * _UNIT_MS[unit]
