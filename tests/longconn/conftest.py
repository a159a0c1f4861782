"""The longconn role against the stand-in's WebSocket server on loopback, with a real (embedded) Valkey."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot import create_app, db
from bot.longconn.client import LinkSettings, Outcome
from bot.longconn.process import build_client, serve
from bot.standin.longconn import LongconnStandin
from tests.conftest import make_settings

BOT_ID, SECRET = "aibTestBot01", "longconn-secret-0001"


@pytest.fixture
def wecom():
    fake = LongconnStandin(bot_id=BOT_ID, secret=SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app(tmp_path, valkey, wecom, clock):
    # a SQLite file: the handler threads use their own connections
    settings = make_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/longconn.sqlite", RQ_IS_ASYNC=True,
                             WECOM_BOT_ID=BOT_ID, WECOM_BOT_SECRET=SECRET, WECOM_LONGCONN_URL=wecom.url,
                             LONGCONN_RELAY_WAIT_SECONDS=5)
    app = create_app(settings, redis=valkey, clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


class RunningBot:
    """The longconn process role on its own thread and event loop, as `python -m bot longconn` runs it."""

    def __init__(self, app, settings: LinkSettings):
        self.app, self.settings = app, settings
        self.client = None
        self.outcome: Outcome | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="longconn-bot", daemon=True)

    def start(self) -> "RunningBot":
        self._thread.start()
        self._ready.wait(5)
        return self

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(4) as executor:
                self.client = build_client(self.app, executor, self.settings)
                self._ready.set()
                self.outcome = await serve(self.app, self.client)

        asyncio.run(main())

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The bot's event loop, to run one of its coroutines from a test (``run_coroutine_threadsafe``)."""
        return self._loop

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.client.stop)
        self._thread.join(10)


def link(url: str, **overrides) -> LinkSettings:
    values = dict(url=url, bot_id=BOT_ID, secret=SECRET, ping_interval=0.2, ack_timeout=2,
                  subscribe_timeout=2, backoff_base=0.02, backoff_max=0.1)
    values.update(overrides)
    return LinkSettings(**values)


@pytest.fixture
def bot(app, wecom):
    running = RunningBot(app, link(wecom.url)).start()
    # both ends agree: the fake has a subscribed connection and the client holds it (a loaded machine can
    # let a test run between the two)
    assert wecom.wait_for(lambda: wecom.live_connections == 1 and running.client is not None
                          and running.client.connection is not None), "the bot did not subscribe"
    yield running
    running.stop()
