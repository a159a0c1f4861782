"""Goals of the closed loop: the unit's defaults, overridden per cohort or post, pro-rated for leave."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml
from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.workdays import is_workday

EXTENSION = "szzs.goals"
FILE_NAME = "goals.yaml"


class GoalSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    study_hours_per_month: float = Field(8, ge=0, le=200)
    practice_activities_per_quarter: int = Field(1, ge=0, le=30)
    awareness_percent: int = Field(100, ge=0, le=100)
    self_report_cap_hours_per_day: float = Field(4, gt=0, le=24)


class Overrides(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    study_hours_per_month: float | None = Field(None, ge=0, le=200)
    practice_activities_per_quarter: int | None = Field(None, ge=0, le=30)
    awareness_percent: int | None = Field(None, ge=0, le=100)
    self_report_cap_hours_per_day: float | None = Field(None, gt=0, le=24)


class Goals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: GoalSet = GoalSet()
    by_cohort: dict[str, Overrides] = {}
    by_post: dict[str, Overrides] = {}

    def for_member(self, *, post: str, cohorts: list[str]) -> GoalSet:
        """The defaults, then the first cohort with overrides, then the post's (the post wins)."""
        values = self.defaults.model_dump()
        cohort = next((self.by_cohort[c] for c in cohorts if c in self.by_cohort), None)
        for override in (cohort, self.by_post.get(post)):
            if override is not None:
                values.update(override.model_dump(exclude_none=True))
        return GoalSet(**values)


def load_goals(path: Path) -> Goals:
    """Read and validate a goals file; a missing file means the paper's defaults."""
    if not path.exists():
        return Goals()
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        return Goals.model_validate(data)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: {field}: {first['msg']}") from None


def get_goals(app: Flask | None = None) -> Goals:
    app = app or current_app
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = load_goals(Path(app.config["UNIT_DIR"]) / FILE_NAME)
    return app.extensions[EXTENSION]


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @classmethod
    def of(cls, day: date) -> "Month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    def previous(self) -> "Month":
        return Month.of(self.first - timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        return f"{self.first.year} 年 {self.first.month} 月"


def workdays(month: Month, *, until: date | None = None, excluding: set[date] = frozenset()) -> int:
    """Working days of the month (up to and including ``until``), leaving out ``excluding``."""
    end = min(month.last, until) if until else month.last
    return sum(1 for d in month.days() if d <= end and d not in excluding and is_workday(d))


def prorated_minutes(goal_hours: float, month: Month, leave_days: set[date]) -> int:
    """The month's goal, reduced by the share of working days spent on leave."""
    total = workdays(month)
    if total == 0:
        return 0
    present = workdays(month, excluding=leave_days)
    return round(goal_hours * 60 * present / total)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
