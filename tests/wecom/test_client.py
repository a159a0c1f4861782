"""The app client and webhook client against a scripted requests transport (no network)."""
from __future__ import annotations

import json
import logging
import threading
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import fakeredis
import pytest
import requests
from requests.adapters import BaseAdapter

from bot import keys
from bot.wecom import client as client_module
from bot.wecom.client import WeComClient
from bot.wecom.errors import RetryableWeComError, WeComError
from bot.wecom.webhook import WebhookClient

BASE = "http://wecom.test/cgi-bin"
SECRET = "s3cret-app-secret-value"


class ScriptedTransport(BaseAdapter):
    """A requests adapter answering from ``handler(path, query, request)``; records every call."""

    def __init__(self, handler: Callable[[str, dict, requests.PreparedRequest], tuple[int, object]]):
        super().__init__()
        self.handler = handler
        self.calls: list[tuple[str, dict, requests.PreparedRequest]] = []

    def send(self, request, **kwargs):
        assert kwargs.get("timeout"), "every HTTP call needs a timeout"
        parts = urlsplit(request.url)
        path = parts.path.removeprefix("/cgi-bin/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.calls.append((path, query, request))
        status, body = self.handler(path, query, request)
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.request, response.url = request, request.url
        return response

    def close(self):
        pass

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]


class FakeWeComAPI:
    """Issues tokens tok-1, tok-2...; answers send calls from a script of errcodes (0 = ok)."""

    def __init__(self, *, expires_in: int = 7200):
        self.expires_in = expires_in
        self.issued = 0
        self.valid: set[str] = set()
        self.script: list[int] = []

    def __call__(self, path, query, request):
        if path == "gettoken":
            assert query == {"corpid": "wwcorp", "corpsecret": SECRET}
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}
        if query.get("access_token") not in self.valid:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        if self.script:
            errcode = self.script.pop(0)
            if errcode:
                return 200, {"errcode": errcode, "errmsg": f"scripted {errcode}"}
        if path == "media/upload":
            return 200, {"errcode": 0, "errmsg": "ok", "type": query["type"], "media_id": "m-1"}
        return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": ""}


@pytest.fixture
def redis():
    return fakeredis.FakeRedis()


@pytest.fixture
def api():
    return FakeWeComAPI()


def make_client(redis, api) -> tuple[WeComClient, ScriptedTransport]:
    transport = ScriptedTransport(api)
    client = WeComClient(api_base=BASE, corp_id="wwcorp", agent_id=1000002, secret=SECRET, redis=redis)
    client._http.mount("http://", transport)
    return client, transport


def token_key() -> str:
    return keys.ACCESS_TOKEN.format(corp_id="wwcorp", agent_id=1000002)


def test_api_base_and_gettoken_use_the_configured_host(redis, api):
    client, transport = make_client(redis, api)
    client.send_message(["u1", "u2"], {"msgtype": "text", "text": {"content": "hi"}})
    assert transport.paths() == ["gettoken", "message/send"]
    assert all(request.url.startswith(BASE + "/") for _, _, request in transport.calls)
    body = json.loads(transport.calls[1][2].body)
    assert body["touser"] == "u1|u2" and body["agentid"] == 1000002


def test_token_is_cached_in_redis_for_every_process(redis, api):
    first, _ = make_client(redis, api)
    first.send_message(["u1"], {"msgtype": "text", "text": {"content": "a"}})
    second, transport = make_client(redis, api)       # another worker, same Redis
    second.send_message(["u1"], {"msgtype": "text", "text": {"content": "b"}})
    assert api.issued == 1 and transport.paths() == ["message/send"]
    assert redis.get(token_key()) == b"tok-1"
    assert 7200 - client_module.TOKEN_MARGIN_S - 5 <= redis.ttl(token_key()) <= 7200 - client_module.TOKEN_MARGIN_S


def test_short_lived_token_still_gets_a_positive_ttl(redis):
    client, _ = make_client(redis, FakeWeComAPI(expires_in=60))
    assert client.access_token == "tok-1"
    assert 0 < redis.ttl(token_key()) <= 30


@pytest.mark.parametrize("errcode", [40014, 42001, 42007, 42009])
def test_refused_token_is_refetched_once_and_the_call_retried(redis, api, errcode):
    client, transport = make_client(redis, api)
    client.access_token                                 # cache tok-1
    api.script = [errcode]
    answer = client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert answer["errcode"] == 0
    assert transport.paths() == ["gettoken", "message/send", "gettoken", "message/send"]
    assert api.issued == 2 and redis.get(token_key()) == b"tok-2"


def test_token_refused_twice_is_retryable_not_a_loop(redis, api):
    client, transport = make_client(redis, api)
    api.script = [42001, 42001, 42001]
    with pytest.raises(RetryableWeComError) as caught:
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert caught.value.errcode == 42001
    assert transport.paths().count("message/send") == 2


def test_stale_token_drop_keeps_a_fresh_token_from_another_worker(redis, api):
    client, _ = make_client(redis, api)
    redis.set(token_key(), "tok-fresh")
    client.drop_token("tok-old")
    assert redis.get(token_key()) == b"tok-fresh"
    client.drop_token("tok-fresh")
    assert redis.get(token_key()) is None


@pytest.mark.parametrize("errcode", [-1, 45009, 45033])
def test_busy_and_frequency_errors_are_retryable(redis, api, errcode):
    client, _ = make_client(redis, api)
    api.script = [errcode]
    with pytest.raises(RetryableWeComError) as caught:
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert caught.value.errcode == errcode and caught.value.path == "message/send"


def test_other_errcodes_are_plain_wecom_errors(redis, api):
    client, _ = make_client(redis, api)
    api.script = [60020]
    with pytest.raises(WeComError) as caught:
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert not caught.value.retryable
    assert (caught.value.errcode, caught.value.path) == (60020, "message/send")


def test_bad_secret_on_gettoken_is_not_retryable(redis):
    def handler(path, query, request):
        return 200, {"errcode": 40001, "errmsg": "invalid credential"}

    client = WeComClient(api_base=BASE, corp_id="wwcorp", agent_id=1, secret=SECRET, redis=redis)
    client._http.mount("http://", ScriptedTransport(handler))
    with pytest.raises(WeComError) as caught:
        client.access_token
    assert caught.value.errcode == 40001 and not caught.value.retryable


def test_http_and_connection_errors_are_retryable_and_leak_nothing(redis, api, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(redis, api)
    client.access_token
    client._http.mount("http://", ScriptedTransport(
        lambda path, query, request: (0, requests.ConnectionError(f"cannot reach {request.url}"))))
    with pytest.raises(RetryableWeComError) as caught:
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    client._http.mount("http://", ScriptedTransport(lambda path, query, request: (502, b"bad gateway")))
    with pytest.raises(RetryableWeComError):
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    text = str(caught.value) + repr(caught.value) + caplog.text
    assert "tok-1" not in text and SECRET not in text and "message/send" in str(caught.value)


def test_logs_name_paths_never_the_secret_or_token(redis, api, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    client, _ = make_client(redis, api)
    api.script = [42001]
    client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert "message/send" in caplog.text
    assert SECRET not in caplog.text and "tok-1" not in caplog.text and "tok-2" not in caplog.text


def test_media_upload_is_multipart_field_media(redis, api):
    client, transport = make_client(redis, api)
    assert client.upload_media("voice", "hello.amr", b"#!AMR\n" + b"\0" * 20) == "m-1"
    path, query, request = transport.calls[-1]
    assert path == "media/upload" and query["type"] == "voice"
    assert b'name="media"; filename="hello.amr"' in request.body


def test_token_lock_wait_timeout_is_retryable(redis, api, monkeypatch):
    monkeypatch.setattr(client_module, "LOCK_WAIT_S", 0.05)
    client, transport = make_client(redis, api)
    held = redis.lock(keys.TOKEN_LOCK.format(corp_id="wwcorp", agent_id=1000002), timeout=5)
    assert held.acquire()
    with pytest.raises(RetryableWeComError):
        client.access_token
    assert transport.calls == []


# -- webhook ---------------------------------------------------------------------------------

def make_webhook(handler) -> tuple[WebhookClient, ScriptedTransport]:
    transport = ScriptedTransport(handler)
    hook = WebhookClient(BASE)
    hook._http.mount("http://", transport)
    return hook, transport


def test_webhook_send_posts_json_to_the_key():
    hook, transport = make_webhook(lambda path, query, request: (200, {"errcode": 0, "errmsg": "ok"}))
    hook.send("key-1", {"msgtype": "text", "text": {"content": "大家好"}})
    path, query, request = transport.calls[0]
    assert (path, query) == ("webhook/send", {"key": "key-1"})
    assert json.loads(request.body.decode("utf-8"))["text"]["content"] == "大家好"


def test_webhook_upload_media_returns_media_id():
    hook, transport = make_webhook(
        lambda path, query, request: (200, {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": "w-1"}))
    assert hook.upload_media("key-1", "file", "a.pdf", b"%PDF-1.4 hello") == "w-1"
    path, query, request = transport.calls[0]
    assert (path, query) == ("webhook/upload_media", {"key": "key-1", "type": "file"})
    assert b'name="media"; filename="a.pdf"' in request.body


@pytest.mark.parametrize("errcode,retryable", [(45009, True), (-1, True), (93000, False)])
def test_webhook_errors_are_mapped(errcode, retryable):
    hook, _ = make_webhook(lambda path, query, request: (200, {"errcode": errcode, "errmsg": "x"}))
    with pytest.raises(WeComError) as caught:
        hook.send("key-secret-1", {"msgtype": "text", "text": {"content": "hi"}})
    assert caught.value.retryable is retryable and caught.value.errcode == errcode
    assert "key-secret-1" not in str(caught.value)


def test_webhook_connection_error_hides_the_key():
    hook, _ = make_webhook(lambda path, query, request: (0, requests.ConnectTimeout(f"timeout {request.url}")))
    with pytest.raises(RetryableWeComError) as caught:
        hook.send("key-secret-1", {"msgtype": "text", "text": {"content": "hi"}})
    assert "key-secret-1" not in str(caught.value) and caught.value.path == "webhook/send"


def test_the_token_is_kept_in_process_for_a_minute_and_dropped_with_the_shared_one(redis, api, monkeypatch):
    client, transport = make_client(redis, api)
    assert client.access_token == "tok-1"
    redis.delete(token_key())                       # not looked up again within the minute: no gettoken
    client.send_message(["u1"], {"msgtype": "text", "text": {"content": "a"}})
    assert transport.paths() == ["gettoken", "message/send"]
    later = client_module.time.monotonic() + client_module.LOCAL_TOKEN_S + 1
    monkeypatch.setattr(client_module.time, "monotonic", lambda: later)
    client.send_message(["u1"], {"msgtype": "text", "text": {"content": "b"}})
    assert transport.paths()[-2:] == ["gettoken", "message/send"] and api.issued == 2
    client.drop_token("tok-2")                      # refused somewhere: gone here too
    assert client.access_token == "tok-3"


def test_a_call_made_while_the_token_is_fetched_ahead_waits_for_that_fetch_not_for_redis(redis, api, monkeypatch):
    monkeypatch.setattr(client_module, "LOCK_WAIT_S", 0.0)     # waiting on the Redis lock would fail at once
    fetch_started, gettoken_may_answer = threading.Event(), threading.Event()

    def slow_gettoken(path, query, request):
        if path == "gettoken":
            fetch_started.set()
            assert gettoken_may_answer.wait(5)
        return api(path, query, request)

    class Watched:
        """The client's in-process lock; gettoken answers only once the call is waiting on it."""

        def __init__(self, lock):
            self._lock = lock

        def __enter__(self):
            if threading.current_thread() is threading.main_thread():
                gettoken_may_answer.set()
            return self._lock.__enter__()

        def __exit__(self, *exc):
            return self._lock.__exit__(*exc)

    client, transport = make_client(redis, slow_gettoken)
    client._looking = Watched(client._looking)
    with client.token_fetched_meanwhile():
        assert fetch_started.wait(5)                           # the helper thread is fetching
        answer = client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert answer["errcode"] == 0
    assert transport.paths() == ["gettoken", "message/send"] and api.issued == 1


def test_a_token_fetched_ahead_that_fails_is_logged_and_the_next_call_raises_it(redis, caplog):
    client, transport = make_client(redis, lambda path, query, request: (200, {"errcode": 40001, "errmsg": "bad"}))
    with caplog.at_level(logging.WARNING, logger="bot.wecom.client"):
        with client.token_fetched_meanwhile():
            pass
    assert "fetching the access token ahead of the calls failed" in caplog.text and SECRET not in caplog.text
    with pytest.raises(WeComError):
        client.send_message(["u1"], {"msgtype": "text", "text": {"content": "hi"}})
    assert transport.paths() == ["gettoken", "gettoken"]
