"""Where a first check-in's time goes: cProfile of the bot's callback over distinct requests, in-process.

    .venv/bin/python bench/profile_callback.py [requests]

Same setup as bench/callback.py (embedded Valkey, fresh migrated SQLite roster, explicit WeCom
credentials), but the requests go through Flask's test client, so no gunicorn or socket cost is
included. Prints the wall time per request without the profiler, the cost of each stage of the
callback and the top functions by own time and by cumulative time.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench.callbacks import CONTENT_TYPE, Credentials, RobotCallbacks  # noqa: E402
from bench.members import MemberPool, prepare_database  # noqa: E402
from bench.procs import bench_processes  # noqa: E402

DEFAULT_REQUESTS = 2000
WARM_UP_REQUESTS = 100
# (label, file suffix, function name) of the stages one callback goes through, outermost first
STAGES = (
    ("whole request (test client)", "werkzeug/test.py", "open"),
    ("bot.callback.receive", "bot/callback.py", "receive"),
    ("  read envelope (XML)", "bot/channels/robot.py", "read_envelope"),
    ("  verify + decrypt", "bot/wecom/crypto.py", "decrypt"),
    ("  parse message (XML)", "bot/channels/robot.py", "parse"),
    ("  dedupe.once (Redis + work)", "bot/dedupe.py", "once"),
    ("    pipeline.handle", "bot/pipeline.py", "handle"),
    ("      Context() (clock, session)", "bot/context.py", "__init__"),
    ("      normalize text", "bot/textnorm.py", "normalize"),
    ("      member lookup", "bot/context.py", "member"),
    ("      registry.match", "bot/router.py", "match"),
    ("      checkin handler", "handlers/checkins.py", "checkin"),
    ("        service.record (SQL)", "handlers/_services/checkins.py", "record"),
    ("      session.commit", "sqlalchemy/orm/session.py", "commit"),
    ("    render reply", "bot/channels/robot.py", "render"),
    ("  encrypt reply", "bot/wecom/crypto.py", "encrypt_reply"),
    ("  Redis commands (all)", "redis/client.py", "execute_command"),
    ("  SQLite itself: execute (all)", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("  SQLite itself: commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("  SQLAlchemy Session.execute (all)", "sqlalchemy/orm/session.py", "execute"),
)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REQUESTS
    with bench_processes("szzs-profile-") as run:
        profile_requests(run.workdir, run.valkey.connection_url, count)
    return 0


def profile_requests(workdir: Path, redis_url: str, count: int) -> None:
    """Time ``count`` first check-ins plainly, then ``count`` more under cProfile, and print both."""
    creds = Credentials.generate()
    db_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    total = WARM_UP_REQUESTS + 2 * count
    prepare_database(db_url, total)
    client = _build_app(workdir, creds, redis_url, db_url).test_client()
    pool = MemberPool(RobotCallbacks(creds), total)

    _post_all(client, pool.take(WARM_UP_REQUESTS))
    plain = pool.take(count)
    started = time.perf_counter()
    _post_all(client, plain)
    per_request = (time.perf_counter() - started) / count * 1000
    print(f"{count} distinct first check-ins through the test client, no profiler: {per_request:.2f} ms each "
          f"(one core: {1000 / per_request:.0f} req/s)\n")

    profiled = pool.take(count)
    profiler = cProfile.Profile()
    profiler.enable()
    _post_all(client, profiled)
    profiler.disable()
    stats = pstats.Stats(profiler)
    _print_stages(stats, count)
    _print_top(profiler, "tottime", 30)
    _print_top(profiler, "cumulative", 45)


def _build_app(workdir: Path, creds: Credentials, redis_url: str, db_url: str):
    from bot import create_app
    from bot.config import load_settings

    return create_app(load_settings(creds.bot_env(workdir, redis_url, db_url)))


def _post_all(client, requests) -> None:
    for req in requests:
        response = client.post(req.path, data=req.body, headers={"Content-Type": CONTENT_TYPE})
        if response.status_code != 200 or not response.data:
            raise RuntimeError(f"callback answered {response.status_code}: {response.data[:200]!r}")


def _print_stages(stats: pstats.Stats, count: int) -> None:
    """Cumulative ms per request of each stage (profiler overhead inflates all of them alike)."""
    print(f"stages, cumulative ms per request under cProfile ({count} requests):")
    for label, suffix, name in STAGES:
        matches = [(cc, nc, tt, ct) for (file, _line, func), (cc, nc, tt, ct, _callers) in stats.stats.items()
                   if func == name and file.endswith(suffix)]
        if matches:
            # same-named functions in one file (Session.commit, SessionTransaction.commit) nest: take the outer
            cumulative, calls = max((m[3], m[1]) for m in matches)
            print(f"  {label:36} {cumulative / count * 1000:7.3f} ms   ({calls / count:.1f} calls/request)")
    print()


def _print_top(profiler: cProfile.Profile, key: str, limit: int) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(limit)
    text = out.getvalue()
    print(f"top {limit} by {key}:")
    print(text[text.index("ncalls"):].rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
