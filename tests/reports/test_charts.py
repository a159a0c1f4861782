"""Report charts: PNGs WeCom takes, drawn with Chinese glyphs from the shipped font (never boxes)."""
from __future__ import annotations

import dataclasses
import io
import warnings
from datetime import date

import matplotlib
import numpy as np
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot import db
from bot.standin.media import looks_like_image
from handlers._services import awareness, report_charts, reports
from handlers._services.dates import Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "2026 年 11 月")
LABELS = "人均学习时长（小时）· 按部门 工程管理科 水情调度科 后勤保障科 达标 每日打卡率 政策知晓率 水法 防洪法 月目标"


@pytest.fixture
def report(office):
    session = db.get_session()
    return reports.monthly_report(session, reports.report_scope_for(session, "admin01"), NOVEMBER)


def render(text: str, family: list[str]) -> np.ndarray:
    with matplotlib.rc_context({"font.family": family}):
        figure = Figure(figsize=(1, 1), dpi=100)
        figure.text(0.5, 0.5, text, fontsize=48, ha="center", va="center")
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def missing_glyph_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_every_chart_is_a_png_wecom_accepts(report):
    images = report_charts.chart_pngs(report)
    assert set(images) == {"study_hours", "checkin_rate", "awareness", "combined"}
    for data in images.values():
        assert looks_like_image(data) and 6 < len(data) <= 2 * 1024 * 1024
    width, height = Image.open(io.BytesIO(images["combined"])).size
    assert height > width > 600           # the three charts stacked in one tall image


def test_progress_is_reported_after_each_image_and_each_panel_of_the_combined_one(report):
    seen = []
    report_charts.chart_pngs(report, on_progress=seen.append)
    assert seen == [14, 29, 43, 57, 71, 86, 100]            # three single images, three panels, the combined image
    seen.clear()
    report_charts.chart_pngs(report, keys=(report_charts.COMBINED,), on_progress=seen.append)
    assert seen == [25, 50, 75, 100]


def test_the_shipped_font_has_the_labels_glyphs_and_matplotlib_uses_it(report):
    cmap = TTFont(report_charts.FONT_FILE).getBestCmap()
    wanted = {ch for ch in LABELS + "".join(u.name for u in report.units) if not ch.isspace()}
    assert {ch for ch in wanted if ord(ch) not in cmap} == set()
    family = report_charts.cjk_font_family()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert found == str(report_charts.FONT_FILE)


def test_rendering_the_report_warns_of_no_missing_glyph(report):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report_charts.chart_pngs(report)
    assert missing_glyph_warnings(caught) == []


def test_two_chinese_characters_render_as_two_different_real_glyphs():
    family = report_charts.style()["font.family"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study, practice = render("学", family), render("习", family)
    assert missing_glyph_warnings(caught) == []
    assert (study < 128).sum() > 100 and (practice < 128).sum() > 100       # ink on the page
    assert not np.array_equal(study, practice)
    # the check can fail: without the CJK font both come out as the same box, with a warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        boxed = render("学", ["DejaVu Sans"]), render("习", ["DejaVu Sans"])
    assert np.array_equal(*boxed) and missing_glyph_warnings(caught)


def test_an_empty_unit_still_draws(office):
    session = db.get_session()
    scope = reports.ReportScope("admin01", reports.Role.ADMIN, frozenset({999}), "空单位")
    empty = reports.monthly_report(session, scope, NOVEMBER)
    assert empty.members == () and empty.units == ()
    assert looks_like_image(report_charts.chart_pngs(empty)["combined"])


def test_the_font_covers_gb2312_and_ships_with_its_licence():
    cmap = TTFont(report_charts.FONT_FILE).getBestCmap()
    hanzi = {bytes([hi, lo]).decode("gb2312") for hi in range(0xB0, 0xF8) for lo in range(0xA1, 0xFF)
             if (hi, lo) not in {(0xD7, n) for n in range(0xFA, 0xFF)}}        # D7FA-D7FE are unassigned
    assert len(hanzi) == 6763 and all(ord(ch) in cmap for ch in hanzi)
    licence = (report_charts.FONT_FILE.parent / "OFL.txt").read_text("utf-8")
    assert "SIL OPEN FONT LICENSE" in licence and "Version 1.1" in licence
    assert report_charts.FONT_FILE.stat().st_size < 2 * 1024 * 1024


def test_many_topics_show_the_lowest_fifteen(report):
    topics = tuple(awareness.Rate(f"主题{n}", 20, n, 0) for n in range(20))      # 主题0 is the lowest
    crowded = dataclasses.replace(report, topics=topics)
    assert [t.topic for t in report_charts.shown_topics(crowded)] == [f"主题{n}" for n in range(15)]
    figure = Figure()
    ax = figure.add_subplot()
    with matplotlib.rc_context(report_charts.style()):
        report_charts.draw_awareness(ax, crowded)
    assert "知晓率最低的 15 个主题，共 20 个" in ax.get_title()
    assert [label.get_text() for label in ax.get_yticklabels()][-1] == "主题0"     # the lowest on top
