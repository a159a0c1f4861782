"""`python -m bench.fanout`: one push to 10 000 generated members in four cohorts, against the stand-in.

The stand-in (in its own process, as WeCom is) answers every API call after 50 ms, the Messenger applies
the real rate limits, and the fan-out and its send jobs run inline in this process (one worker, calls one
after another). The floor is the fewest API calls batching allows (one gettoken, one upload per voice
clip, one message/send per message of a rendering per 1000 members), times 50 ms; the ratio compares the
wall time with it. The bot's Redis is a real Valkey. Voice synthesis is warmed first (its cache is per
script), so the run measures the fan-out, not espeak; the synthesis and AMR encoding cost per minute of
audio and the cache hit are printed after it (``bench.voice``).
"""
from __future__ import annotations

import math
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import func, select
from redis import Redis
from werkzeug.serving import make_server

from bench import voice
from bench.procs import bench_processes, free_port
from bot import create_app, db
from bot.models import Member
from bot.models.messaging import Delivery
from bot.models.pushes import Push
from handlers._services.push_render import render
from jobs.pushes import fan_out, find_pack_item, plan
from tests.conftest import FixedClock, SHANGHAI, make_settings
from tests.factories import org_unit

ROOT = Path(__file__).resolve().parent.parent

MEMBERS = 10_000
LATENCY_MS = 50
TARGET_RATIO = 1.25
ITEM = "push_flood_duty_stories/duty-rules"       # text, news, video and voice variants
# (cohort it lands in, birth year, post category): 青年 → text, 调度管理 → news, 工程运维 → video, 临退休 → voice
COHORTS = (("青年", 1998, "工程运维"), ("调度管理", 1982, "调度管理"), ("工程运维", 1985, "工程运维"),
           ("临退休", 1968, "综合管理"))


def main() -> int:
    with bench_processes("szzs-fanout-") as run:
        redis_url = f"{run.valkey.connection_url}/0"
        standin = None
        try:
            standin, url = _start_standin(run.workdir, redis_url)
            return _measure(run.workdir, redis_url, url)
        finally:                  # also on Ctrl-C or an error: no stand-in left behind
            if standin is not None:
                standin.kill()
                standin.wait()


def _measure(workdir: Path, redis_url: str, url: str) -> int:
    clock = FixedClock(datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI))
    app = create_app(make_settings(workdir / "bot", WECOM_API_BASE=url, DATABASE_URL=f"sqlite:///{workdir}/b.sqlite",
                                   REDIS_URL=redis_url), redis=Redis.from_url(redis_url), clock=clock)
    with app.app_context():
        db.create_all(app)
        _members(db.get_session())
        pack, item = find_pack_item(ITEM)
        session = db.get_session()
        the_plan = plan(session, item, list(session.scalars(select(Member.userid))), today=clock().date())
        floor_calls, deliveries = 1, 0
        for (form, rate), ids in the_plan.groups.items():
            messages = render(pack, item, form, push_id=1, rate_wpm=rate)      # also warms the voice cache
            floor_calls += len(messages) * math.ceil(len(ids) / 1000)
            deliveries += len(ids)            # a rendering's messages are one delivery per member
            floor_calls += sum(1 for m in messages if m.msgtype == "voice")
        push = Push(item_ref=ITEM, pack_version=pack.version, audience="全体", origin="admin", status="sending",
                    scheduled_for=clock(), created_by="bench", created_at=clock(), detail="")
        session.add(push)
        session.commit()
        requests.post(f"{url}/_control", json={"latency_ms": LATENCY_MS}, timeout=5).raise_for_status()
        started = time.perf_counter()
        result = fan_out(push_id=push.id)
        wall = time.perf_counter() - started
        sent = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent"))
    stats = requests.get(f"{url}/_control/stats", timeout=5).json()
    records = requests.get(f"{url}/messages", timeout=30).json()
    calls = sum(stats["calls"].values())
    if calls != floor_calls or sent != deliveries:     # a fan-out that skipped work would look fast
        raise RuntimeError(f"the push did not do the work measured: {calls} API calls of {floor_calls}, "
                           f"{sent} deliveries sent of {deliveries}")
    floor = floor_calls * LATENCY_MS / 1000
    print(f"members: {MEMBERS} in {len(COHORTS)} cohorts; queued {result['queued']}; forms {result['forms']}")
    print(f"recorded messages (stand-in keeps the last 5000): {len(records)}, dropped: {stats.get('dropped', 0)}")
    print(f"API calls: {calls} {stats['calls']} (floor {floor_calls})")
    ratio = wall / floor
    print(f"wall time: {wall:.2f} s; floor {floor:.2f} s ({floor_calls} calls × {LATENCY_MS} ms); "
          f"ratio {ratio:.2f}× (target ≤ {TARGET_RATIO}×: {'OK' if ratio <= TARGET_RATIO else 'MISSED'})")
    print("voice, the fan-out's other cost (bench.voice):")
    print(voice.report(voice.measure(rounds=3, rate=150)))
    return 0


def _start_standin(workdir: Path, redis_url: str) -> tuple[subprocess.Popen, str]:
    """The stand-in in a process of its own, as WeCom is: its work must not take turns with ours
    for this process's interpreter lock while a call is in flight."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.fanout", "--standin", str(port), redis_url, str(workdir)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/standin"
    for _ in range(200):
        try:
            requests.post(f"{url}/_control", json={"reset": True}, timeout=5).raise_for_status()
            return process, url
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the stand-in did not start")


def _serve_standin(port: int, redis_url: str, workdir: Path) -> None:
    # the stand-in keeps its records and limits in Valkey db 1 (fakeredis would make it the bottleneck)
    standin = create_app(make_settings(workdir / "standin", STANDIN_ENABLED=True),
                         redis=Redis.from_url(redis_url.replace("/0", "/1")))
    make_server("127.0.0.1", port, standin, threaded=True).serve_forever()


def _members(session) -> None:
    root = org_unit(session, "水库管理所", kind="unit")
    departments = {category: org_unit(session, f"{category}部门", kind="department", parent=root)
                   for _, _, category in COHORTS}
    now = datetime.now(timezone.utc)
    rows = []
    for n in range(MEMBERS):
        _, birth, category = COHORTS[n % len(COHORTS)]
        rows.append(dict(userid=f"b{n:05d}", name=f"职工{n}", department_id=departments[category].id, team_id=None,
                         post="岗位", post_category=category, birth_year=birth, status="在职", updated_at=now))
    session.execute(Member.__table__.insert(), rows)
    session.commit()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--standin"]:
        _serve_standin(int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    raise SystemExit(main())
