"""The whole stack as a newcomer runs it: `python -m bot run` with embedded Valkey, gunicorn, an RQ
worker and rq cron as real processes, spoken to over loopback HTTP by the platform-side crypto."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq import Queue

from tests.platform.actor import WeComPlatform

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEMO_MEMBER = "zhangwei"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def busy_next_port():
    """A free port whose next one is held (listening) by this test until the block ends."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as busy:
            try:
                busy.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            busy.listen()
            yield port
            return
    raise RuntimeError("no free pair of ports")


class Stack:
    """A running `python -m bot run` in its own instance folder."""

    def __init__(self, instance: Path, port: int | None = None):
        self.instance = instance
        self.port = port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_URL", "DATABASE_URL"))}
        env.update(INSTANCE_PATH=str(instance), PORT=str(self.port), PYTHONUNBUFFERED="1")
        self.log = open(instance / "stack.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            if "思政助手已启动" in self.output():
                run = json.loads((self.instance / "run.json").read_text())
                if {"web", "worker", "cron", "valkey"} <= set(run["children"]):
                    return run
            time.sleep(0.2)
        raise AssertionError("stack not ready:\n" + self.output())

    def platform(self) -> WeComPlatform:
        creds = json.loads((self.instance / "demo-wecom.json").read_text())
        return WeComPlatform(token=creds["token"], aes_key=creds["aes_key"], corp_id=creds["corp_id"],
                             base_url=self.base)

    def output(self) -> str:
        self.log.flush()
        return (self.instance / "stack.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def wait_gone(pids, timeout=15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()


def test_checkin_push_cron_and_clean_shutdown(stack, tmp_path):
    run = stack.wait_ready()
    reply = stack.platform().say("打卡 今天学习了防汛应急预案", user=DEMO_MEMBER, channel="robot")
    assert reply.status == 200 and "打卡成功" in reply.text, stack.output()

    # a push job goes through the real worker to the stand-in
    redis = Redis.from_url(run["redis_url"])
    Queue("outbox", connection=redis).enqueue(
        "bot.outbox.deliver_to_members", kwargs=dict(push_id="e2e-push-1", userids=[DEMO_MEMBER],
                                                     message={"msgtype": "text", "content": "端到端推送"}))
    deadline = time.monotonic() + 30
    pushes = []
    while time.monotonic() < deadline and not pushes:
        records = requests.get(f"{stack.base}/standin/messages", params={"recipient": DEMO_MEMBER}, timeout=5).json()
        pushes = [r for r in records if r["msgtype"] == "text" and "端到端推送" in json.dumps(r["body"], ensure_ascii=False)]
        time.sleep(0.3)
    assert len(pushes) == 1, stack.output()

    # exactly one rq cron is registered and alive
    assert len(redis.keys("rq:cron_scheduler:*")) == 1

    assert {"longconn", "standin-longconn"} <= set(run["children"])     # the demo's own bot on the socket
    children = list(run["children"].values())
    assert stack.stop(signal.SIGTERM) == 0
    assert wait_gone(children) == [], "orphan processes left behind"
    assert not (tmp_path / "run.json").exists()

    # the next start is not blocked by anything the first left behind, and sees the same data; a busy
    # PORT+1 (where a long-connection stand-in could have gone) does not stop the demo either
    with busy_next_port() as port:
        again = Stack(tmp_path, port=port)
        try:
            again.wait_ready()
            reply = again.platform().say("打卡", user=DEMO_MEMBER, channel="app", chattype="single")
            assert "已经打过卡" in reply.text
            deadline = time.monotonic() + 30             # the bot's long connection may still be dialling
            while True:
                over_socket = requests.post(f"{again.base}/standin/longconn/messages", timeout=15,
                                            json={"userid": DEMO_MEMBER, "text": "打卡"})
                if over_socket.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert over_socket.status_code == 200, again.output()
            assert any("已经打过卡" in r for r in over_socket.json()["replies"])
        finally:
            again.stop()


def test_acknowledged_checkin_survives_sigkill_of_the_web_process(stack, tmp_path):
    run = stack.wait_ready()
    reply = stack.platform().say("打卡", user=DEMO_MEMBER, channel="aibot")
    assert "打卡成功" in reply.text
    os.killpg(run["children"]["web"], signal.SIGKILL)
    stack.stop(signal.SIGTERM)
    with sqlite3.connect(tmp_path / "szzs.sqlite") as conn:
        rows = conn.execute("SELECT userid FROM checkins").fetchall()
    assert rows == [(DEMO_MEMBER,)]


def test_ctrl_c_stops_everything(stack):
    run = stack.wait_ready()
    assert stack.stop(signal.SIGINT) == 0
    assert wait_gone(list(run["children"].values())) == []
