"""The WeCom stand-in served over real HTTP on loopback, for tests of outbound sends."""
from __future__ import annotations

import contextlib
import threading

import fakeredis
import pytest
import requests
from werkzeug.serving import make_server

from bot import create_app, db
from tests.conftest import make_settings

GROUP, HOOK_KEY = "党员学习群", "hook-key-0001"


@pytest.fixture
def fake_server():
    return fakeredis.FakeServer()


@pytest.fixture
def standin_url(tmp_path, fake_server):
    serving = create_app(make_settings(tmp_path / "standin", STANDIN_ENABLED=True),
                         redis=fakeredis.FakeRedis(server=fake_server))
    server = make_server("127.0.0.1", 0, serving, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/standin"
    control(url, {"reset": True, "webhooks": {GROUP: HOOK_KEY}})
    yield url
    server.shutdown()
    thread.join(timeout=5)


@contextlib.contextmanager
def app_on_standin(tmp_path, fake_server, standin_url: str, clock, modules=None, **settings):
    """An app whose WeCom API is the loopback stand-in (sharing its fake Redis server), with these
    handler modules (None: the default ones) and settings, its tables created, inside an app context."""
    if modules is not None:
        settings["HANDLER_MODULES"] = modules
    app = create_app(make_settings(tmp_path / "bot", WECOM_API_BASE=standin_url, **settings),
                     redis=fakeredis.FakeRedis(server=fake_server), clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def control(url: str, settings: dict) -> dict:
    answer = requests.post(f"{url}/_control", json=settings, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def messages(url: str, **filters) -> list[dict]:
    return requests.get(f"{url}/messages", params=filters, timeout=5).json()


def stats(url: str) -> dict:
    return requests.get(f"{url}/_control/stats", timeout=5).json()


