"""Kind activity: activities.yaml, the activities a pack offers for 发布活动 <id>."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StringConstraints, field_validator, \
    model_validator

from content_packs.schema import Slug, Text, Url

ONLINE_ACTIVITY_KINDS = ("直播", "网络研讨", "虚拟展览", "专题分享")
OFFLINE_ACTIVITY_KINDS = ("实地参观", "主题沙龙", "实践体验")
PRACTICE_ACTIVITY_KINDS = ("实地参观", "实践体验")      # what the study loop calls 实践活动
ACTIVITY_TIME_FORMAT = "%Y-%m-%d %H:%M"


def _local_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0)
    try:
        return datetime.strptime(str(value).strip(), ACTIVITY_TIME_FORMAT)
    except ValueError:
        raise ValueError("应为日期和时间，写作 \"2027-04-22 09:30\"（加引号），按单位所在时区") from None


LocalTime = Annotated[datetime, BeforeValidator(_local_time)]


class ActivityDefinition(BaseModel):
    """One activity ready to publish (``发布活动 <id>``): what the guided dialogue would have asked.

    ``starts`` may be left out (an activity held every year): the admin then writes the time in the
    command. ``link`` is the place to join an online activity (required), or an offline activity's
    detail page (optional; the notice then has a news card).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]
    kind: str
    starts: LocalTime | None = None
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    link: Url | None = None
    audience: tuple[Text, ...] = Field(default=("全体",), min_length=1)   # 全体, cohorts, departments, teams
    capacity: StrictInt | None = Field(default=None, ge=1, le=1000)      # None: no limit
    minutes: StrictInt = Field(default=60, ge=5, le=480)                 # study time credited on sign-in
    practice: bool | None = None                                          # None: by kind
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in ONLINE_ACTIVITY_KINDS + OFFLINE_ACTIVITY_KINDS:
            raise ValueError(f"活动类型只能是：{'、'.join(ONLINE_ACTIVITY_KINDS + OFFLINE_ACTIVITY_KINDS)}")
        return value

    @model_validator(mode="after")
    def _place_or_link(self) -> "ActivityDefinition":
        if self.online and self.link is None:
            raise ValueError(f"线上活动（{self.kind}）要写 link（参加链接）")
        if self.online and self.place is not None:
            raise ValueError(f"线上活动（{self.kind}）不写 place；参加链接写在 link")
        if not self.online and self.place is None:
            raise ValueError(f"线下活动（{self.kind}）要写 place（地点）")
        return self

    @property
    def online(self) -> bool:
        return self.kind in ONLINE_ACTIVITY_KINDS

    @property
    def counts_as_practice(self) -> bool:
        return self.kind in PRACTICE_ACTIVITY_KINDS if self.practice is None else self.practice
