"""Report charts as PNG: study hours against the goal, the daily check-in rate, awareness per topic.

Drawn with matplotlib's Agg canvas (no display, no pyplot state) in the CJK font shipped in
bot/fonts, so Chinese labels render the same on a fresh machine as on a developer's.
"""
from __future__ import annotations

import io
from functools import cache
from typing import Callable, Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.fonts import FONT_FILE
from bot.workdays import is_workday
from handlers._services.reports import MonthlyReport

FONT_FAMILY = "Szzs Sans SC"           # a GB2312 subset of Noto Sans CJK SC (bot/fonts/ABOUT.md)
CHART_KEYS = ("study_hours", "checkin_rate", "awareness")
COMBINED = "combined"
MAX_IMAGE_BYTES = 2 * 1024 * 1024      # what a group robot takes inline; app images may be larger
DPI = 110
MAX_TOPICS = 15                        # more bars than this no longer read on a phone
REACHED, BEHIND, GOAL, LINE, REST_DAY = "#2e7d32", "#ef6c00", "#c62828", "#1565c0", "#eeeeee"


@cache
def cjk_font_family() -> str:
    """Register the shipped font with matplotlib once per process and return its family name."""
    font_manager.fontManager.addfont(str(FONT_FILE))
    return FONT_FAMILY


def style() -> dict:
    """rcParams for report charts: the CJK font first, DejaVu for anything it lacks."""
    return {"font.family": [cjk_font_family(), "DejaVu Sans"], "axes.unicode_minus": False,
            "axes.spines.top": False, "axes.spines.right": False}


def chart_pngs(report: MonthlyReport, *, keys: Sequence[str] = (*CHART_KEYS, COMBINED),
               on_progress: Callable[[int], None] | None = None) -> dict[str, bytes]:
    """The charts named by ``keys``: any of the three one by one, and all three in one image for the
    chat message (``combined``). Only those asked for are drawn.

    ``on_progress(percent)`` is called as the work goes, for the job's progress messages: after each single
    image, and for the combined one after each of its panels and after the image itself.
    """
    drawers = {"study_hours": draw_study_hours, "checkin_rate": draw_checkin_rate, "awareness": draw_awareness}
    steps = sum(len(CHART_KEYS) + 1 if key == COMBINED else 1 for key in keys)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(round(done * 100 / steps))

    images: dict[str, bytes] = {}
    with matplotlib.rc_context(style()):
        for key in keys:
            if key == COMBINED:
                images[key] = _png(_combined(report, drawers, after_each_panel=step))
            else:
                figure = Figure(figsize=(8, _heights(report)[key]), layout="constrained")
                drawers[key](figure.add_subplot(), report)
                images[key] = _png(figure)
            step()
    return images


def _combined(report: MonthlyReport, drawers: dict, *, after_each_panel: Callable[[], None]) -> Figure:
    heights = [_heights(report)[key] for key in CHART_KEYS]
    figure = Figure(figsize=(8, sum(heights) + 0.5), layout="constrained")
    figure.suptitle(f"{report.title}（统计至 {report.as_of:%m-%d}）", fontsize=15)
    for ax, key in zip(figure.subplots(3, 1, height_ratios=heights), CHART_KEYS):
        drawers[key](ax, report)
        after_each_panel()
    return figure


def _heights(report: MonthlyReport) -> dict[str, float]:
    """Inches per chart: the awareness bars grow with the number of topics shown."""
    return {"study_hours": 4.5, "checkin_rate": 4.0, "awareness": max(3.0, 1.4 + 0.36 * len(shown_topics(report)))}


def shown_topics(report: MonthlyReport) -> list:
    """The topics the awareness chart shows: all of them, or the lowest ``MAX_TOPICS`` (where work is needed)."""
    if len(report.topics) <= MAX_TOPICS:
        return list(report.topics)
    return sorted(report.topics, key=lambda t: (t.share, t.topic))[:MAX_TOPICS]


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)         # Agg, whatever backend the process chose
    for dpi in (DPI, 80, 60):       # a very wide unit could grow the image; WeCom takes ≤2 MB inline
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        if buffer.tell() <= MAX_IMAGE_BYTES:
            break
    return buffer.getvalue()


def draw_study_hours(ax: Axes, report: MonthlyReport) -> None:
    goal = report.goal_minutes / 60
    ax.set_title(f"人均学习时长（小时）· 按{report.unit_kind}")
    if not report.units:
        _empty(ax, "范围内还没有人员")
        return
    names = [f"{u.name}\n达标 {u.reached}/{u.people}" for u in report.units]
    values = [round(u.average_minutes / 60, 1) for u in report.units]
    bars = ax.bar(names, values, color=[REACHED if v >= goal else BEHIND for v in values], width=0.6)
    ax.bar_label(bars, fmt="%g", padding=2)
    ax.axhline(goal, color=GOAL, linestyle="--", linewidth=1.5, label=f"月目标 {goal:g} 小时")
    ax.set_ylim(0, max([goal, *values]) * 1.2)
    ax.legend(loc="upper right", frameon=False)
    if len(names) > 5:
        ax.tick_params(axis="x", labelrotation=30)


def draw_checkin_rate(ax: Axes, report: MonthlyReport) -> None:
    ax.set_title("每日打卡率（灰色为休息日）")
    for rate in report.days:
        if not is_workday(rate.day):
            ax.axvspan(rate.day.day - 0.5, rate.day.day + 0.5, color=REST_DAY, linewidth=0)
    days = [r.day.day for r in report.days]
    ax.plot(days, [r.rate * 100 for r in report.days], color=LINE, marker="o", markersize=3.5, linewidth=1.8)
    ax.set_xlim(0.5, report.period.last.day + 0.5)
    ax.set_ylim(0, 105)
    ax.set_xlabel(f"{report.period.first.month} 月（日）")
    ax.set_ylabel("打卡人数占比（%）")
    ax.set_xticks(range(1, report.period.last.day + 1, 2))


def draw_awareness(ax: Axes, report: MonthlyReport) -> None:
    shown = shown_topics(report)
    lowest = f"（知晓率最低的 {len(shown)} 个主题，共 {len(report.topics)} 个）" if len(shown) < len(report.topics) else ""
    ax.set_title(f"政策知晓率 · {report.awareness_period.label}{lowest}")
    if not shown:
        _empty(ax, "题库里还没有题目")
        return
    topics = list(reversed(shown))              # barh draws bottom-up: keep the order top-down
    shares = [round(t.share * 100) for t in topics]
    bars = ax.barh([t.topic for t in topics], shares,
                   color=[REACHED if s >= report.awareness_goal_percent else BEHIND for s in shares], height=0.6)
    ax.bar_label(bars, labels=[f"{s}%（{t.knowing}/{t.people}）" for s, t in zip(shares, topics)], padding=3)
    ax.axvline(report.awareness_goal_percent, color=GOAL, linestyle="--", linewidth=1.5,
               label=f"目标 {report.awareness_goal_percent}%")
    ax.set_xlim(0, 125)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("答对过该主题题目的人数占比（%）")
    ax.legend(loc="lower right", frameon=False)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=13, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])
