#!/usr/bin/env python3
"""The two commands: `python3 dev.py run` and `python3 dev.py test`.

Each creates .venv if needed, installs the pinned requirements when they changed, then runs
the bot (embedded Valkey, SQLite, web, worker, cron) or the whole test suite.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
REQUIREMENTS = {"run": ["requirements.txt"], "test": ["requirements.txt", "requirements-dev.txt"]}


def ensure_environment(mode: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("思政助手需要 Python 3.11 或更新版本 / Python 3.11+ is required.")
    if not PYTHON.exists():
        print("创建虚拟环境 / creating .venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    files = REQUIREMENTS[mode]
    digest = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in files)).hexdigest()[:16]
    stamp = VENV / f".installed-{mode}-{digest}"
    if stamp.exists():
        return
    print("安装依赖 / installing pinned requirements …", flush=True)
    args = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for f in files:
        args += ["-r", str(ROOT / f)]
    subprocess.run(args, check=True)
    for old in VENV.glob(f".installed-{mode}-*"):
        old.unlink()
    stamp.touch()


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium; install it once (never a downloaded browser)."""
    if Path(CHROMIUM).exists():
        return
    print("安装 Chromium（浏览器测试用）/ installing chromium for the browser tests …", flush=True)
    apt = ([] if os.geteuid() == 0 else ["sudo"]) + ["apt-get"]
    if subprocess.run(apt + ["install", "-y", "chromium"]).returncode != 0:
        subprocess.run(apt + ["update"], check=True)        # a fresh machine may have no package lists yet
        subprocess.run(apt + ["install", "-y", "chromium"], check=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in REQUIREMENTS:
        print("用法 / usage: python3 dev.py run | python3 dev.py test [pytest options]")
        return 2
    mode, rest = argv[0], argv[1:]
    ensure_environment(mode)
    os.chdir(ROOT)
    if mode == "run":
        command = [str(PYTHON), "-m", "bot", "run", *rest]
    else:
        ensure_chromium()
        command = [str(PYTHON), "-m", "pytest", *rest]
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
