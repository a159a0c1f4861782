"""Contest benchmark: 500 members answer one 竞赛 question through the full encrypted callback path.

    .venv/bin/python bench/contest.py

Starts an embedded Valkey, a fresh SQLite roster and two gunicorn servers with identical settings (the
bot and bench/bare_app.py), as bench/callback.py does. An admin starts a one-question contest in the
bench group through a signed callback; then 500 distinct members each send their first answer
(`@思政助手 A`), 8 at a time, to the bot and the same 500 requests to the bare baseline. Prints
answers/s, p50 and p99 and the bot/bare ratio, and checks that every answer was scored exactly once.

Why not wrk here: 500 requests last well under wrk's shortest run, and wrk divides by its whole
``-d`` duration when its request file runs out, which would understate the rate. A closed-loop client
with the same concurrency is used for both servers instead, so the ratio compares like with like.
Every process it starts is stopped at the end, also on Ctrl-C or an error.
"""
from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench.callbacks import CHAT_ID, CallbackRequest, Credentials, RobotCallbacks, robot_text_xml  # noqa: E402
from bench.loadgen import percentile, send  # noqa: E402
from bench.members import name_of, prepare_database, userid_of  # noqa: E402
from bench.procs import GunicornServer, bench_processes, clean_env, cpu_sample, start_all  # noqa: E402

ANSWERS = 500
WARM_UP_ANSWERS = 100        # other members, answering the same question before the measured 500
CONCURRENCY = 8              # connections in flight, as bench/callback.py's wrk runs
ADMIN = "benchadmin"
RECEIVED = "已收到你对第 1 题的回答"
# what to answer each question type with so the bot takes it as an answer (right or wrong does not matter)
ANSWER_FOR = {"单选题": "A", "多选题": "A", "判断题": "对", "填空题": "混凝土"}


def main() -> int:
    with bench_processes("szzs-bench-contest-") as run:
        _run(run.workdir, run.valkey.connection_url, run.servers)
    return 0


def _run(workdir: Path, redis_url: str, servers: list[GunicornServer]) -> None:
    creds = Credentials.generate()
    db_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    prepare_database(db_url, ANSWERS + WARM_UP_ANSWERS)
    bare, bot = _start_servers(workdir, creds, redis_url, db_url, servers)
    callbacks = RobotCallbacks(creds)
    answer = _start_contest(bot, callbacks)

    warm_up = [_answer(callbacks, ANSWERS + i, answer) for i in range(1, WARM_UP_ANSWERS + 1)]
    measured = [_answer(callbacks, i, answer) for i in range(1, ANSWERS + 1)]
    _burst(bare.base_url, warm_up)
    _burst(bot.base_url, warm_up)
    bare_run, bare_cpu = _measured_burst(bare, measured)
    bot_run, bot_cpu = _measured_burst(bot, measured)

    received = sum(1 for status, body, _ in bot_run["responses"]
                   if status == 200 and RECEIVED in callbacks.decrypt_reply(body))
    scored = _scored_members(redis_url)
    _print_report(bare_run, bot_run, bare_cpu, bot_cpu, received, scored)
    if received != ANSWERS or scored != ANSWERS + WARM_UP_ANSWERS:
        raise RuntimeError(f"{received} answers acknowledged of {ANSWERS}, {scored} members scored "
                           f"(expected {ANSWERS + WARM_UP_ANSWERS} with the warm-up)")


def _start_servers(workdir: Path, creds: Credentials, redis_url: str, db_url: str,
                   servers: list[GunicornServer]) -> tuple[GunicornServer, GunicornServer]:
    # the contest needs the group's webhook to be known; nothing is sent (no worker runs)
    bot_env = clean_env(**creds.bot_env(workdir, redis_url, db_url), BOT_ADMINS=ADMIN,
                        WECOM_GROUP_WEBHOOKS=f"{CHAT_ID}=bench-hook")
    bare = GunicornServer("bare", "bench.bare_app:create_app()", workdir, clean_env())
    bot = GunicornServer("bot", "bot:create_app()", workdir, bot_env)
    start_all(servers, bare, bot)
    print(f"servers: python {' '.join(bot.argv[1:])}  (bare: the same with bench.bare_app:create_app())",
          flush=True)
    return bare, bot


def _start_contest(bot: GunicornServer, callbacks: RobotCallbacks) -> str:
    """The admin's `竞赛 大坝安全 1 300` through a signed callback; returns the text members will answer."""
    request = callbacks.wrap(robot_text_xml(ADMIN, "管理员", "bench-contest-start", "@思政助手 竞赛 大坝安全 1 300"))
    status, body = send(bot.base_url, request)
    reply = callbacks.decrypt_reply(body) if status == 200 else ""
    kind = re.search(r"(单选题|多选题|判断题|填空题) · 限时", reply)
    if "答题竞赛开始" not in reply or kind is None:
        raise RuntimeError(f"the bot did not start the contest (HTTP {status}): {reply or body[:300]!r}\n"
                           f"{bot.log_tail()}")
    print(f"contest started: {kind.group(1)}, members answer「{ANSWER_FOR[kind.group(1)]}」", flush=True)
    return ANSWER_FOR[kind.group(1)]


def _answer(callbacks: RobotCallbacks, index: int, text: str) -> CallbackRequest:
    return callbacks.wrap(robot_text_xml(userid_of(index), name_of(index), f"bench-answer-{index:05d}",
                                         f"@思政助手 {text}"))


def _burst(base_url: str, requests: list[CallbackRequest]) -> dict:
    """Send every request, CONCURRENCY at a time (closed loop); time each one and the whole burst."""
    def timed(req: CallbackRequest) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        try:
            status, body = send(base_url, req)
        except OSError:
            status, body = 0, b""
        return status, body, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        responses = list(pool.map(timed, requests))
    wall = time.perf_counter() - started
    latencies = [ms for _, _, ms in responses]
    return dict(responses=responses, wall_s=wall, rate=len(requests) / wall,
                p50=percentile(latencies, 50), p99=percentile(latencies, 99),
                ok=sum(1 for status, _, _ in responses if status == 200))


def _measured_burst(server: GunicornServer, requests: list[CallbackRequest]) -> tuple[dict, dict]:
    workers = server.worker_pids()
    before = cpu_sample(workers)
    run = _burst(server.base_url, requests)
    worker_s, busy = cpu_sample(workers).since(before)
    return run, dict(ms_per_request=worker_s / len(requests) * 1000, machine_busy=busy)


def _scored_members(redis_url: str) -> int:
    """Members in the contest's score set: each first answer adds one, a repeat adds none."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        contest_id = client.hget(f"szzs:contest:{CHAT_ID}", "id").decode()
        return client.zcard(f"szzs:contest-scores:{contest_id}")
    finally:
        client.close()


def _print_report(bare: dict, bot: dict, bare_cpu: dict, bot_cpu: dict, received: int, scored: int) -> None:
    print()
    print(f"{'':6}{'answers/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'200s':>7}{'CPU ms/req':>12}{'machine':>9}")
    for name, run, cpu in (("bare", bare, bare_cpu), ("bot", bot, bot_cpu)):
        print(f"{name:6}{run['rate']:10.0f}{run['p50']:9.2f}{run['p99']:9.2f}{run['ok']:7d}"
              f"{cpu['ms_per_request']:12.2f}{cpu['machine_busy']:9.0%}")
    print()
    print(f"{ANSWERS} first answers from distinct members to one question, {CONCURRENCY} in flight; "
          f"the bot acknowledged {received}, members scored {scored} "
          f"({ANSWERS} measured + {WARM_UP_ANSWERS} warm-up)")
    print(f"answers/s: {bot['rate']:.0f}   p99: {bot['p99']:.1f} ms   "
          f"ratio (bot / bare): {bot['rate'] / bare['rate']:.2f}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started has been stopped")
