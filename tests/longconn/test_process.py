"""`python -m bot longconn` as the real process: it subscribes, and stops with a clear line when kicked."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN
from tests.longconn.conftest import BOT_ID, SECRET


def start(tmp_path: Path, url: str, redis_url: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "WECOMBOT_"))}
    env.update(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite", REDIS_URL=redis_url,
               WECOM_CORP_ID=TEST_CORP_ID, WECOM_TOKEN=TEST_TOKEN, WECOM_AES_KEY=TEST_AES_KEY,
               WECOM_BOT_ID=BOT_ID, WECOM_BOT_SECRET=SECRET, WECOM_LONGCONN_URL=url)
    return subprocess.Popen([sys.executable, "-m", "bot", "longconn"], cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def test_the_process_stops_when_another_connection_takes_over(tmp_path, wecom, valkey):
    from bot.db import make_engine
    from bot.models import Base

    Base.metadata.create_all(make_engine(f"sqlite:///{tmp_path}/p.sqlite"))
    redis_url = "redis://{host}:{port}/0".format(**valkey.connection_pool.connection_kwargs)
    log = tmp_path / "longconn.log"
    process = start(tmp_path, wecom.url, redis_url, log)
    try:
        assert wecom.wait_for(lambda: wecom.live_connections == 1, timeout=30), log.read_text()
        wecom.kick()                             # what WeCom does when a second copy subscribes
        assert process.wait(timeout=15) == 3
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    output = log.read_text()
    assert "taken over by another connection (disconnected_event)" in output
    assert wecom.subscribes == 1                 # it did not reconnect to fight back


def test_one_process_per_bot_and_a_dead_holder_is_replaced(valkey):
    import socket

    from bot.longconn.process import LOCK, claim_lock

    key = LOCK.format(bot_id=BOT_ID)
    valkey.set(key, f"{socket.gethostname()}:{os.getpid()}")      # a live process holds it
    assert claim_lock(valkey, BOT_ID) is False
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    valkey.set(key, f"{socket.gethostname()}:{dead.pid}")         # killed without cleaning up
    assert claim_lock(valkey, BOT_ID) is True
    assert valkey.get(key).decode() == f"{socket.gethostname()}:{os.getpid()}"
