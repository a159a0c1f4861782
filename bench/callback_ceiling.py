"""How far any bot could get: bench/ceiling_app.py (the protocol and one storage step, nothing else)
against the bare Flask baseline, next to the real bot, all under the web role's gunicorn settings.

    .venv/bin/python bench/callback_ceiling.py

bench/callback.py measures the bot against its target; this run says what the machine allows. Each
server gets a warm-up and then one wrk run of distinct first check-ins, like bench/callback.py; the
numbers are printed as requests/s, the workers' CPU per request and the ratio to bare.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench import wrkrun  # noqa: E402
from bench.callbacks import Credentials, RobotCallbacks  # noqa: E402
from bench.members import MemberPool, prepare_database  # noqa: E402
from bench.procs import GunicornServer, bench_processes, clean_env, start_all  # noqa: E402

MEMBERS = 200_000   # every server, bare too, gets fresh members
WARM_UP_PER_THREAD = 3_000
MEASURE_PER_THREAD = 15_000
CANDIDATES = (
    ("protocol only", "bench.ceiling_app:create_app()", {"CEILING_STORAGE": "none"}),
    ("+ one Redis call", "bench.ceiling_app:create_app()", {"CEILING_STORAGE": "redis"}),
    ("+ one SQLite txn", "bench.ceiling_app:create_app()", {"CEILING_STORAGE": "sqlite"}),
    ("the bot", "bot:create_app()", {}),
)


def main() -> int:
    wrkrun.ensure_wrk()
    with bench_processes("szzs-ceiling-") as run:
        _run(run.workdir, run.valkey.connection_url, run.servers)
    return 0


def _run(workdir: Path, redis_url: str, servers: list[GunicornServer]) -> None:
    creds = Credentials.generate()
    db_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    prepare_database(db_url, MEMBERS)
    bot_env = creds.bot_env(workdir, redis_url, db_url)      # the stripped endpoints read only what they need
    bare = GunicornServer("bare", "bench.bare_app:create_app()", workdir, clean_env())
    named = [(label, GunicornServer(f"c{i}", spec, workdir, clean_env(**bot_env, **extra)))
             for i, (label, spec, extra) in enumerate(CANDIDATES)]
    start_all(servers, bare, *(server for _, server in named))
    pool = MemberPool(RobotCallbacks(creds), MEMBERS)
    print(f"gunicorn: {' '.join(bare.argv[3:-1])}\n")
    print(f"{'':18} {'req/s':>7} {'worker ms/req':>14} {'ratio':>6}")
    base = None
    for label, server in [("bare Flask", bare)] + named:
        warm = workdir / f"{server.name}-warm.requests"
        wrkrun.write_requests(warm, pool.take(WARM_UP_PER_THREAD * wrkrun.WARM_UP.threads))
        wrkrun.run(server.base_url, warm, WARM_UP_PER_THREAD, settings=wrkrun.WARM_UP, wrap=server is bare)
        path = workdir / f"{server.name}.requests"
        wrkrun.write_requests(path, pool.take(MEASURE_PER_THREAD * wrkrun.MEASURE.threads))
        result, cpu = wrkrun.run_with_cpu(server, path, MEASURE_PER_THREAD, wrap=server is bare)
        wrkrun.check_all_ok(label, result)
        base = base or result.requests_per_s
        print(f"{label:18} {result.requests_per_s:7.0f} {cpu['worker_ms_per_request']:14.3f} "
              f"{result.requests_per_s / base:6.2f}", flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started has been stopped")
