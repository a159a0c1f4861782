"""The dashboard pages: sign in with the one-time link, then charts and downloads within the person's scope."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date

from flask import Response, current_app, redirect, render_template, request, send_file, url_for

from bot import clock, db, org, redis_store
from bot.dashboard import bp, signin, webfont
from bot.dashboard.source import ReportSource, get_source
from bot.models import OrgUnit

COOKIE = "szzs_dashboard"
CHARTS = (("study_hours", "学习时长（对照每月目标）"), ("checkin_rate", "每日打卡率"), ("awareness", "各专题知晓率"))
MONTHS_SHOWN = 12
NOT_SIGNED_IN = "请在企业微信里给思政助手发送「看板」，用收到的链接登录（链接 10 分钟内有效，只能使用一次）。"
NO_RIGHTS = "看板只对负责人和管理员开放。如有需要，请联系管理员。"
LINK_USED = "这个登录链接已经用过或已过期。请在企业微信里重新发送「看板」获取新链接。"


@dataclass(frozen=True)
class Viewer:
    userid: str
    scope: object          # the source's scope: ``label`` and ``unit_ids``
    source: ReportSource


@bp.get("/font.otf")
def font():
    return webfont.font_response()


@bp.get("/signin/<token>")
def confirm_signin(token: str):
    # a button, not an immediate sign-in: link previews must not use up the one-time link
    return render_template("dashboard_signin.html", token=token)


@bp.post("/signin/<token>")
def signin_with_link(token: str):
    redis, now = redis_store.get_redis(), clock.now()
    userid = signin.redeem_link(redis, token, now=now)
    if userid is None:
        return _notice(LINK_USED, 403)
    response = redirect(url_for("dashboard.page"))
    response.set_cookie(COOKIE, signin.start_session(redis, userid, now=now), httponly=True, samesite="Lax",
                        secure=request.is_secure, path=url_for("dashboard.page"),
                        max_age=int(signin.SESSION_VALID.total_seconds()))
    return response


@bp.post("/signout")
def signout():
    signin.end_session(redis_store.get_redis(), request.cookies.get(COOKIE))
    response = _notice("您已退出看板。", 200)
    response.delete_cookie(COOKIE, path=url_for("dashboard.page"))
    return response


@bp.get("/")
def page():
    viewer = _viewer()
    if isinstance(viewer, Response):
        return viewer
    today = clock.now().date()
    month, unit = request.args.get("month") or f"{today:%Y-%m}", request.args.get("unit") or ""
    choices = dict(months=_months(today), units=_units(viewer.scope), month=month, unit=unit,
                   scope_label=viewer.scope.label, userid=viewer.userid)
    try:
        report = _report(viewer, month, unit, today)
    except viewer.source.refusal as exc:
        return render_template("dashboard.html", error=str(exc), report=None, charts=[], **choices), 400
    images = viewer.source.charts(report, keys=[key for key, _ in CHARTS])
    charts = [(key, title, "data:image/png;base64," + base64.b64encode(images[key]).decode("ascii"))
              for key, title in CHARTS]
    return render_template("dashboard.html", error=None, report=report, charts=charts, **choices)


@bp.get("/download/<name>")
def download(name: str):
    viewer = _viewer()
    if isinstance(viewer, Response):
        return viewer
    today = clock.now().date()
    month, unit = request.args.get("month") or f"{today:%Y-%m}", request.args.get("unit") or ""
    try:
        report = _report(viewer, month, unit, today)
    except viewer.source.refusal as exc:
        return _notice(str(exc), 400)
    stem = f"思政报表-{(unit or viewer.scope.label).replace(' / ', '-')}-{month}"
    if name == "report.xlsx":
        return send_file(io.BytesIO(viewer.source.workbook(report)), download_name=f"{stem}.xlsx", as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    key = name.removesuffix(".png")
    if name.endswith(".png") and key in dict(CHARTS):
        png = viewer.source.charts(report, keys=(key,))[key]
        return send_file(io.BytesIO(png), mimetype="image/png", as_attachment=True,
                         download_name=f"{stem}-{dict(CHARTS)[key]}.png")
    return _notice("没有这个下载项。", 404)


def _viewer() -> Viewer | Response:
    source = get_source()
    if source is None:
        return _notice("看板没有启用。", 404)
    userid = signin.session_user(redis_store.get_redis(), request.cookies.get(COOKIE), now=clock.now())
    if userid is None:
        return _notice(NOT_SIGNED_IN, 401)
    scope = source.scope_for(db.get_session(), userid)
    if scope is None:
        return _notice(NO_RIGHTS, 403)
    return Viewer(userid, scope, source)


def _report(viewer: Viewer, month: str, unit: str, today: date):
    period = viewer.source.period(month, today)
    return viewer.source.report(db.get_session(), viewer.scope, period, unit or None)


def _months(today: date) -> list[str]:
    year, month, found = today.year, today.month, []
    for _ in range(MONTHS_SHOWN):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def _units(scope) -> list[str]:
    """Departments and teams inside the scope, as the filter offers them (``部门 / 班组`` for teams)."""
    session = db.get_session()
    ids = org.units_within(session, set(scope.unit_ids))
    units = [session.get(OrgUnit, unit_id) for unit_id in sorted(ids)]
    return [org.unit_path(unit) for unit in units if unit is not None and unit.parent_id is not None]


def _notice(text: str, status: int) -> Response:
    response = current_app.make_response((render_template("dashboard_notice.html", text=text), status))
    return response
