"""Where the dashboard's figures come from: installed at start by the reports capability (handlers/)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

EXTENSION = "szzs.dashboard.source"


@dataclass(frozen=True)
class ReportSource:
    """The report functions the dashboard calls; ``refusal`` is the error whose message a person may read.

    ``scope_for(session, userid)`` → a scope with ``label`` and ``unit_ids``, or None (no report rights);
    ``period(text, today)`` → the month; ``report(session, scope, period, department)`` → the report;
    ``charts(report, keys=...)`` → ``{key: PNG bytes}`` for the charts named (study_hours, checkin_rate, awareness);
    ``workbook(report)`` → xlsx bytes.
    """

    scope_for: Callable[[Session, str], Any]
    period: Callable[[str | None, date], Any]
    report: Callable[[Session, Any, Any, str | None], Any]
    charts: Callable[..., dict[str, bytes]]
    workbook: Callable[[Any], bytes]
    refusal: type[Exception]


def install(app: Flask, source: ReportSource) -> None:
    app.extensions[EXTENSION] = source


def get_source(app: Flask | None = None) -> ReportSource | None:
    """The installed source; None when the reports capability is not enabled."""
    return (app or current_app).extensions.get(EXTENSION)
