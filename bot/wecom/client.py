"""The app (自建应用) API client: wechatpy's WeChatClient pointed at our base URL, token shared in Redis.

wechatpy hard-codes the real gettoken host and keeps tokens per process; this subclass fetches from
``{WECOM_API_BASE}/gettoken``, caches the token in Redis for every process (with a short lock so
many workers do not stampede gettoken), refetches once when WeCom refuses it, and turns errcodes
into ``WeComError`` / ``RetryableWeComError``. Log lines name the API path only: URLs carry the
secret or the access_token.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Sequence

import requests
from redis import Redis
from redis.exceptions import LockError
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot import keys
from bot.call_line import CallLine
from bot.wecom.errors import TOKEN_ERRCODES, RetryableWeComError, error_for, raise_for_result

log = logging.getLogger(__name__)

TIMEOUT_S = (5.0, 15.0)            # connect, read: on every HTTP call
TOKEN_MARGIN_S = 300               # forget a token this long before WeCom says it expires
LOCK_TTL_S = 15                    # a token fetch never holds the lock longer than this
LOCAL_TOKEN_S = 60                 # reuse the shared token in this process this long before asking Redis again
LOCK_WAIT_S = 10.0                 # how long another process waits for the fetching one

# delete the cached token only if it is still the one WeCom refused (another worker may have
# fetched a fresh one meanwhile)
_DROP_IF_SAME = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class WeComClient(WeChatClient):
    """wechatpy's enterprise client for one app, with a Redis-shared token and mapped errors.

    Args:
        api_base: ``WECOM_API_BASE`` (no trailing slash), e.g. ``https://qyapi.weixin.qq.com/cgi-bin``.
        corp_id: the corp id.
        agent_id: the app's agent id (sent with every message).
        secret: the app's secret.
        redis: where the token and its lock live.
        timeout: requests timeout for every call.
    """

    def __init__(self, *, api_base: str, corp_id: str, agent_id: int, secret: str, redis: Redis,
                 timeout: float | tuple[float, float] = TIMEOUT_S):
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base.rstrip("/") + "/"
        self.agent_id = agent_id
        self._redis = redis
        self._token_key = keys.ACCESS_TOKEN.format(corp_id=corp_id, agent_id=agent_id)
        self._lock_key = keys.TOKEN_LOCK.format(corp_id=corp_id, agent_id=agent_id)
        self._local: tuple[str | None, float] = (None, 0.0)     # (token, monotonic time to look again)
        self._looking = threading.Lock()      # one thread of this process looks the token up at a time

    def __repr__(self) -> str:  # never show the secret
        return f"<WeComClient corp={self.corp_id} agent={self.agent_id} base={self.API_BASE_URL}>"

    # -- what the Messenger uses -------------------------------------------------------------

    def send_message(self, userids: Sequence[str], msg: dict) -> dict:
        """POST ``message/send`` to up to 1000 members; returns WeCom's answer (``invaliduser``...)."""
        return self.message.send(self.agent_id, list(userids), msg=msg)

    def upload_media(self, kind: str, filename: str, data: bytes) -> str:
        """Upload temporary media (``image``/``voice``/``video``/``file``); returns its media_id."""
        result = self.media.upload(kind, (filename, data))
        return str(result["media_id"])

    # -- token -------------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        """The shared token from Redis, fetched (by one process at a time) when missing.

        Kept in this process for ``LOCAL_TOKEN_S`` too: a push of many calls asks Redis once a minute,
        not once per call (a refused token is dropped here as well, see ``drop_token``). A thread that
        needs it while another thread of this process is looking it up waits for that lookup.
        """
        token = self._local_token()
        if token:
            return token
        with self._looking:
            token = self._local_token()      # looked up while we waited?
            if token:
                return token
            token = self._shared_token()
            self._local = (token, time.monotonic() + LOCAL_TOKEN_S)
            return token

    def _local_token(self) -> str | None:
        token, look_again = self._local
        return token if token and time.monotonic() < look_again else None

    @contextmanager
    def token_fetched_meanwhile(self) -> Iterator[None]:
        """Get the access token (Redis, else ``gettoken``) on a helper thread while the caller carries on,
        e.g. a fan-out planning its audience; leaving waits for it. A call made meanwhile waits only for the
        rest of that lookup, and the calls after it find the token in this process instead of starting with
        a ``gettoken`` round trip. A failure is only logged here: the next call fetches again and raises it."""
        with CallLine() as line:
            fetched = line.submit(lambda: self.access_token)
            yield
        if fetched.exception() is not None:
            log.warning("fetching the access token ahead of the calls failed: %r", fetched.exception())

    def _shared_token(self) -> str:
        token = self._redis.get(self._token_key)
        if token:
            return token.decode()
        lock = self._redis.lock(self._lock_key, timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)
        if not lock.acquire():
            raise RetryableWeComError(None, "timed out waiting for another process's token fetch", "gettoken")
        try:
            token = self._redis.get(self._token_key)   # fetched while we waited?
            if token:
                return token.decode()
            return str(self.fetch_access_token()["access_token"])
        finally:
            try:
                lock.release()
            except LockError:
                log.warning("token lock expired before the fetch finished")

    def fetch_access_token(self) -> dict:
        """GET ``{base}/gettoken`` and cache the token in Redis until shortly before it expires.

        Raises:
            RetryableWeComError: network failure, bad answer or a retryable errcode.
            WeComError: WeCom refused the credentials (e.g. 40001).
        """
        log.info("WeCom gettoken: fetching an access token")
        try:
            res = self._http.get(self.API_BASE_URL + "gettoken", timeout=self.timeout,
                                 params={"corpid": self.corp_id, "corpsecret": self.secret})
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise RetryableWeComError(None, type(exc).__name__, "gettoken") from None
        raise_for_result(result, "gettoken")
        expires_in = int(result.get("expires_in") or 7200)
        ttl = expires_in - TOKEN_MARGIN_S if expires_in > 2 * TOKEN_MARGIN_S else max(expires_in // 2, 1)
        self._redis.set(self._token_key, result["access_token"], ex=ttl)
        return result

    def drop_token(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one."""
        if self._local[0] == token:
            self._local = (None, 0.0)
        self._redis.eval(_DROP_IF_SAME, 1, self._token_key, token)

    # -- every API call goes through here ------------------------------------------------------

    def _request(self, method: str, url_or_endpoint: str, **kwargs) -> dict:
        path = _path_of(url_or_endpoint, self.API_BASE_URL)
        kwargs.setdefault("timeout", self.timeout)
        for attempt in (1, 2):
            token = self.access_token
            params = dict(kwargs.get("params") or {}, access_token=token)
            try:
                result = super()._request(method, url_or_endpoint, **{**kwargs, "params": params})
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRCODES:
                    self.drop_token(token)
                    if attempt == 1:
                        log.info("WeCom %s: token refused (errcode %s), fetching a new one", path, exc.errcode)
                        continue
                    # a fresh token refused too: not the message's fault, try again later
                    raise RetryableWeComError(exc.errcode, str(exc.errmsg or ""), path) from None
                raise error_for(exc.errcode, str(exc.errmsg or ""), path) from None
            except requests.RequestException as exc:
                # the exception text holds the URL (and so the token): keep only its type
                raise RetryableWeComError(None, type(exc).__name__, path) from None
            return raise_for_result(result, path)
        raise AssertionError("unreachable")


def _path_of(url_or_endpoint: str, base: str) -> str:
    """``message/send`` from an endpoint or a full URL, without any query string."""
    path = url_or_endpoint.split("?", 1)[0]
    return path[len(base):] if path.startswith(base) else path.rsplit("/cgi-bin/", 1)[-1]
