"""The callback benchmark's report: the table, the sanity lines, the targets, and the JSON file."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from bench.loadgen import PacedResult
from bench.procs import Memory
from bench.wrkrun import WrkResult

TARGET_RATIO = 0.50
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 160.0


def ratio_of(results: dict) -> float:
    """Bot requests/s as a share of the bare baseline's, both at maximum throughput."""
    return results["throughput"]["bot"].requests_per_s / results["throughput"]["bare"].requests_per_s


def startup_rss(results: dict) -> float:
    """RSS of the larger bot worker right after start-up, in MB (what the target is about)."""
    return max(m.rss for m in results["memory_start"])


def print_report(results: dict) -> None:
    """The table (max throughput and fixed rate, bare and bot), the sanity lines and the three targets."""
    tp, paced, rate = results["throughput"], results["paced"], results["settings"]["paced_rate"]
    print()
    print(f"{'':6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}   │ @{rate:.0f} req/s:{'p50 ms':>8}{'p99 ms':>9}")
    for name in ("bare", "bot"):
        wrk_result, paced_result = tp[name], paced[name]
        print(f"{name:6}{wrk_result.requests_per_s:9.0f}{wrk_result.p50_ms:9.2f}{wrk_result.p99_ms:9.2f}   │"
              f"{'':12}{paced_result.p50_ms:8.2f}{paced_result.p99_ms:9.2f}")
    print()
    _print_checks(results)
    print()
    ratio, p99, rss = ratio_of(results), paced["bot"].p99_ms, startup_rss(results)
    print(f"ratio (bot / bare req/s): {ratio:.2f}   target ≥ {TARGET_RATIO:.2f}   {_verdict(ratio >= TARGET_RATIO)}")
    print(f"p99 @{rate:.0f} req/s: {p99:.1f} ms   target ≤ {TARGET_P99_MS:.0f} ms   {_verdict(p99 <= TARGET_P99_MS)}")
    print(f"worker RSS: {rss:.0f} MB   target ≤ {TARGET_RSS_MB:.0f} MB   {_verdict(rss <= TARGET_RSS_MB)}")


def write_json(results: dict, path: Path) -> None:
    """Every number of the run, for comparing runs (bench/results/ is git-ignored)."""
    tp, paced, settings = results["throughput"], results["paced"], results["settings"]
    data = dict(
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        settings=dict(settings, wrk=asdict(settings["wrk"])),
        # asdict keeps wrk's own report, for a second look at the distribution
        max_throughput=dict(bare=asdict(tp["bare"]), bot=asdict(tp["bot"]), prepared=tp["prepared"],
                            bot_checkins_added=tp["checkins_added"], cpu=tp["cpu"]),
        paced=dict(bare=_paced_numbers(paced["bare"]), bot=_paced_numbers(paced["bot"]),
                   bot_successes=paced["bot_successes"], bot_checkins_added=paced["checkins_added"]),
        memory_mb=dict(start=[asdict(m) for m in results["memory_start"]],
                       after_load=[asdict(m) for m in results["memory_end"]]),
        checkins_total=results["checkins_total"],
        members_used=results["members_used"],
        ratio=round(ratio_of(results), 3),
        p99_ms_at_fixed_rate=round(paced["bot"].p99_ms, 2),
        worker_rss_mb=round(startup_rss(results), 1),
        targets=dict(ratio=TARGET_RATIO, p99_ms_at_fixed_rate=TARGET_P99_MS, worker_rss_mb=TARGET_RSS_MB),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _print_checks(results: dict) -> None:
    """What was sent, what came back, what the database recorded, CPU, and memory."""
    tp, paced, wrk = results["throughput"], results["paced"], results["settings"]["wrk"]
    bot: WrkResult = tp["bot"]
    print(f"wrk ({wrk.threads} threads, {wrk.connections} connections, {wrk.seconds} s): "
          f"bot sent {bot.sent} of {tp['prepared']} prepared distinct check-ins, {bot.completed} answered, "
          f"{bot.ok} × 200, {bot.other} other{', RAN OUT' if bot.exhausted else ''}; "
          f"checkins rows added {tp['checkins_added']} (requests in flight at the cut-off add up to "
          f"{wrk.connections})")
    for name in ("bare", "bot"):
        cpu = tp["cpu"][name]
        print(f"cpu during wrk ({name}): workers {cpu['worker_ms_per_request']:.2f} ms CPU per request, "
              f"machine {cpu['machine_busy']:.0%} busy (cores shared with wrk and Valkey)")
    bot_paced, bare_paced = paced["bot"], paced["bare"]
    print(f"paced: bot {len(bot_paced.responses)} sent, {bot_paced.ok} × 200, {paced['bot_successes']} decrypted "
          f"replies with {results['success_text']}, checkins rows added {paced['checkins_added']}; "
          f"bare {bare_paced.ok} × 200; late sends bot {bot_paced.late_sends}, bare {bare_paced.late_sends}")
    print(f"checkins table: {results['checkins_total']} rows for {results['members_used']} members used")
    for label, key in (("start-up", "memory_start"), ("after load", "memory_end")):
        print(f"bot workers {label}: " + " | ".join(_memory(m) for m in results[key]))


def _paced_numbers(result: PacedResult) -> dict:
    return dict(rate=result.rate, sent=len(result.responses), ok=result.ok, p50_ms=result.p50_ms,
                p99_ms=result.p99_ms, late_sends=result.late_sends)


def _memory(m: Memory) -> str:
    def mb(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} MB"

    return f"RSS {mb(m.rss)}, PSS {mb(m.pss)}, USS {mb(m.uss)}"


def _verdict(met: bool) -> str:
    return "OK" if met else "MISSED"
