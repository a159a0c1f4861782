"""Callback benchmark: the real bot under gunicorn against a bare Flask baseline, measured in the same run.

    .venv/bin/python bench/callback.py

Starts an embedded Valkey, a fresh SQLite roster of generated members and two gunicorn servers with
identical settings (the bot and bench/bare_app.py), then measures maximum throughput with wrk and latency
at a fixed 100 req/s with a paced Python client. Every request to the bot is the FIRST check-in of a
distinct member today, the expensive path. Prints bot/bare ratios against the targets and writes
bench/results/callback.json. Every process it starts is stopped at the end, also on Ctrl-C or an error.

    .venv/bin/python bench/callback.py --py-spy [PATH]

adds one more (unmeasured) wrk run on the bot while py-spy samples its workers, and prints where a
request's wall time goes. For an in-process cProfile of the same path see bench/profile_callback.py.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

# run as a script: import bench.* and bot.* from the project root, never bench/ itself
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench import report, spy, wrkrun  # noqa: E402
from bench.callbacks import Credentials, RobotCallbacks  # noqa: E402
from bench.loadgen import run_paced, send  # noqa: E402
from bench.members import MemberPool, count_checkins, prepare_database  # noqa: E402
from bench.procs import GunicornServer, bench_processes, clean_env, memory_of, start_all  # noqa: E402

MEMBERS = 60_000
WARM_UP_REQUESTS = 6_000
PACED_RATE = 100.0
PACED_SECONDS = 5
RESULTS_FILE = ROOT / "bench" / "results" / "callback.json"
SUCCESS = "打卡成功"


def main() -> int:
    options = _parse_args()
    wrkrun.ensure_wrk()
    with bench_processes("szzs-bench-") as run:
        results = _run(run.workdir, run.valkey.connection_url, run.servers)
        report.print_report(results)
        report.write_json(results, RESULTS_FILE)
        print(f"\nwritten: {RESULTS_FILE.relative_to(ROOT)}")
        if options.py_spy:
            _profile_under_load(run.workdir, results, options.py_spy)
    return 0


def _run(workdir: Path, redis_url: str, servers: list[GunicornServer]) -> dict:
    """Every phase in order; returns the numbers for the report."""
    creds = Credentials.generate()
    db_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    # other work on the machine shares its cores with the bench: say how busy it was before we started
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    started = time.monotonic()
    prepare_database(db_url, MEMBERS)
    print(f"database: {MEMBERS} members migrated and inserted in {time.monotonic() - started:.1f} s", flush=True)

    bare, bot = _start_servers(workdir, creds, redis_url, db_url, servers)
    print(f"servers: python {' '.join(bot.argv[1:])}  (bare: the same with bench.bare_app:create_app())",
          flush=True)
    memory_start = [memory_of(pid) for pid in bot.worker_pids()]

    callbacks = RobotCallbacks(creds)
    pool = MemberPool(callbacks, MEMBERS)
    reply = _verify_bot(bot, pool, callbacks)
    print(f"verified: the bot answers a signed callback with: {reply.splitlines()[0]}", flush=True)

    warm_rate = _warm_up(workdir, bare, bot, pool)
    throughput = _max_throughput(workdir, bare, bot, pool, db_url, warm_rate)
    paced = _paced(bare, bot, pool, callbacks, db_url)
    memory_end = [memory_of(pid) for pid in bot.worker_pids()]
    settings = dict(members=MEMBERS, wrk=wrkrun.MEASURE, paced_rate=PACED_RATE, paced_seconds=PACED_SECONDS,
                    gunicorn_argv=bot.argv[1:])
    return dict(settings=settings, throughput=throughput, paced=paced, memory_start=memory_start,
                memory_end=memory_end, checkins_total=count_checkins(db_url), members_used=MEMBERS - pool.left,
                success_text=SUCCESS, bot_server=bot, pool=pool)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--py-spy", metavar="PATH", nargs="?", const="auto",
                        help="after the measurements, sample the bot's workers with py-spy under one more "
                             "(unmeasured) wrk run; PATH defaults to py-spy on PATH")
    return parser.parse_args()


def _start_servers(workdir: Path, creds: Credentials, redis_url: str, db_url: str,
                   servers: list[GunicornServer]) -> tuple[GunicornServer, GunicornServer]:
    """Start bare and bot side by side; they are registered in ``servers`` before anything can fail."""
    bare = GunicornServer("bare", "bench.bare_app:create_app()", workdir, clean_env())
    bot = GunicornServer("bot", "bot:create_app()", workdir, clean_env(**creds.bot_env(workdir, redis_url, db_url)))
    start_all(servers, bare, bot)
    return bare, bot


def _verify_bot(bot: GunicornServer, pool: MemberPool, callbacks: RobotCallbacks) -> str:
    """One check-in through the real stack must come back 200 with an encrypted 打卡成功."""
    status, body = send(bot.base_url, pool.take(1)[0])
    reply = callbacks.decrypt_reply(body) if status == 200 else ""
    if SUCCESS not in reply:
        raise RuntimeError(f"bot did not check the member in (HTTP {status}): {reply or body[:300]!r}\n"
                           f"{bot.log_tail()}")
    return reply


def _warm_up(workdir: Path, bare: GunicornServer, bot: GunicornServer, pool: MemberPool) -> float:
    """A short wrk run on each server (lazy imports, connections, caches); returns the bot's rate."""
    path = workdir / "warm-up.requests"
    count = min(WARM_UP_REQUESTS, pool.left)
    wrkrun.write_requests(path, pool.take(count))
    per_thread = count // wrkrun.WARM_UP.threads
    wrkrun.run(bare.base_url, path, per_thread, settings=wrkrun.WARM_UP, wrap=True)
    result = wrkrun.run(bot.base_url, path, per_thread, settings=wrkrun.WARM_UP, wrap=False)
    wrkrun.check_all_ok("warm-up (bot)", result)
    print(f"warm-up: bot {result.requests_per_s:.0f} req/s over {wrkrun.WARM_UP.seconds} s"
          f"{' (ran out of requests)' if result.exhausted else ''}", flush=True)
    return math.inf if result.exhausted else result.requests_per_s


def _max_throughput(workdir: Path, bare: GunicornServer, bot: GunicornServer, pool: MemberPool,
                    db_url: str, warm_rate: float) -> dict:
    """wrk against bare, then bot, with the same settings and the same request bytes."""
    paced_reserve = int(PACED_RATE * PACED_SECONDS)
    # three times what the warm-up rate needs: a thread that runs dry would end the run early
    wanted = warm_rate * wrkrun.MEASURE.seconds * 3 + 1000
    per_thread = int(min(wanted, pool.left - paced_reserve) // wrkrun.MEASURE.threads)
    path = workdir / "measure.requests"
    wrkrun.write_requests(path, pool.take(per_thread * wrkrun.MEASURE.threads))

    bare_result, bare_cpu = wrkrun.run_with_cpu(bare, path, per_thread, wrap=True)
    before = count_checkins(db_url)
    bot_result, bot_cpu = wrkrun.run_with_cpu(bot, path, per_thread, wrap=False)
    time.sleep(1.0)   # requests still in flight when wrk stopped finish on the server
    added = count_checkins(db_url) - before
    wrkrun.check_all_ok("max throughput (bot)", bot_result)
    _check_checkins("max throughput (bot)", bot_result.ok, bot_result.sent, added)
    return dict(bare=bare_result, bot=bot_result, prepared=per_thread * wrkrun.MEASURE.threads, checkins_added=added,
                cpu=dict(bare=bare_cpu, bot=bot_cpu))


def _paced(bare: GunicornServer, bot: GunicornServer, pool: MemberPool, callbacks: RobotCallbacks,
           db_url: str) -> dict:
    """The same fresh requests at a fixed rate, first to bare (which ignores them), then to the bot."""
    requests = pool.take(int(PACED_RATE * PACED_SECONDS))
    bare_result = run_paced(bare.base_url, requests, rate=PACED_RATE)
    before = count_checkins(db_url)
    bot_result = run_paced(bot.base_url, requests, rate=PACED_RATE)
    successes = sum(1 for r in bot_result.responses if r.status == 200 and SUCCESS in callbacks.decrypt_reply(r.body))
    if successes != len(requests) or bare_result.ok != len(requests):
        raise RuntimeError(f"paced run: bot checked in {successes}, bare answered {bare_result.ok} × 200, "
                           f"of {len(requests)} requests")
    return dict(bare=bare_result, bot=bot_result, bot_successes=successes,
                checkins_added=count_checkins(db_url) - before)


def _profile_under_load(workdir: Path, results: dict, hint: str) -> None:
    """An extra wrk run on the bot (fresh members again) while py-spy samples its workers; not measured."""
    bot, pool = results["bot_server"], results["pool"]
    py_spy = spy.find_py_spy(hint)
    if py_spy is None:
        print(f"\npy-spy not found ({hint}); install it with `pip install py-spy` (any folder) and pass its path")
        return
    wanted = int(results["throughput"]["bot"].requests_per_s * wrkrun.MEASURE.seconds * 3) + 1000
    per_thread = min(wanted, pool.left) // wrkrun.MEASURE.threads
    path = workdir / "profile.requests"
    wrkrun.write_requests(path, pool.take(per_thread * wrkrun.MEASURE.threads))
    output = workdir / "py-spy.raw"
    recorder = spy.start(py_spy, bot.process.pid, wrkrun.MEASURE.seconds + 1, output)
    time.sleep(0.5)   # let py-spy attach to both workers before the load starts
    wrkrun.run(bot.base_url, path, per_thread, settings=wrkrun.MEASURE, wrap=False)
    _, errors = recorder.communicate(timeout=60)
    if recorder.returncode != 0 or not output.exists():
        print(f"\npy-spy failed ({recorder.returncode}): {errors.strip()[-500:]}")
        return
    print("\n" + spy.summarize(output))


def _check_checkins(phase: str, answered_ok: int, sent: int, added: int) -> None:
    # every 200 must be a stored check-in; requests in flight when wrk stopped may add a few more
    if not answered_ok <= added <= sent:
        raise RuntimeError(f"{phase}: {answered_ok} × 200 of {sent} sent, but {added} check-ins were stored")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started has been stopped")
