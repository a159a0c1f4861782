"""A paced load generator: sends requests on a fixed schedule (open loop) and times each one."""
from __future__ import annotations

import http.client
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.callbacks import CONTENT_TYPE, CallbackRequest

# enough threads that a slow reply never delays the next scheduled send at 100 req/s
POOL_THREADS = 32


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    latency_ms: float     # from the scheduled send time to the last byte of the reply


@dataclass(frozen=True)
class PacedResult:
    rate: float
    responses: list[Response]
    late_sends: int       # sends that started more than 5 ms after their slot (the client fell behind)

    @property
    def p50_ms(self) -> float:
        return percentile([r.latency_ms for r in self.responses], 50)

    @property
    def p99_ms(self) -> float:
        return percentile([r.latency_ms for r in self.responses], 99)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.responses if r.status == 200)


def send(base_url: str, req: CallbackRequest, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST one callback on a fresh connection (gunicorn's sync workers close every connection anyway)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request("POST", req.path, body=req.body, headers={"Content-Type": CONTENT_TYPE})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_paced(base_url: str, requests: list[CallbackRequest], *, rate: float) -> PacedResult:
    """Send ``requests`` at ``rate`` per second whatever the replies do, and time each one."""
    start = time.monotonic() + 0.2
    late = 0
    with ThreadPoolExecutor(POOL_THREADS) as pool:
        futures = []
        for index, req in enumerate(requests):
            due = start + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.005:
                late += 1
            futures.append(pool.submit(_timed, base_url, req, due))
        responses = [future.result() for future in futures]
    return PacedResult(rate=rate, responses=responses, late_sends=late)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value at or below which ``pct`` % of the values lie)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _timed(base_url: str, req: CallbackRequest, due: float) -> Response:
    try:
        status, body = send(base_url, req)
    except OSError:
        status, body = 0, b""
    # measured from the slot, not from the actual send: a client that falls behind must not hide latency
    return Response(status, body, (time.monotonic() - due) * 1000)
