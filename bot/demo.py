"""The demo unit: a reservoir management office's roster and roles, loaded into an empty database."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from bot import org, roles
from bot.config import PROJECT_ROOT
from bot.roster import ImportReport, import_roster

DEMO_DIR = PROJECT_ROOT / "content_packs" / "demo_unit"
GRANTED_BY = "demo"


def load_demo_unit(session: Session, *, now: datetime, folder: Path = DEMO_DIR) -> ImportReport:
    """Import the demo roster and grant its admin and leaders; running it again changes nothing.

    Args:
        session: the SQL session; committed on success.
        now: aware current time for ``updated_at`` and ``granted_at``.
        folder: where ``roster.csv`` and ``roles.yaml`` live.

    Returns:
        The roster import report.

    Raises:
        ValueError: the demo data is broken (a bad row, an unknown userid or unit in roles.yaml).
    """
    spec = _read_roles(folder / "roles.yaml")
    report = import_roster(session, folder / "roster.csv", unit_name=spec["unit"], now=now)
    if not report.ok:
        raise ValueError(f"{folder / 'roster.csv'}: {report.summary()}")
    for userid in spec["admins"]:
        _require_member(session, userid)
        roles.grant(session, userid, roles.ADMIN, org_unit_id=None, by=GRANTED_BY, at=now)
    for leader in spec["leaders"]:
        _require_member(session, leader["userid"])
        units = org.find_unit_by_name(session, leader["unit"])
        if len(units) != 1:
            raise ValueError(f"roles.yaml: 「{leader['unit']}」应恰好对应一个部门或班组，实际 {len(units)} 个")
        roles.grant(session, leader["userid"], roles.LEADER, org_unit_id=units[0].id, by=GRANTED_BY, at=now)
    session.commit()
    return report


def _read_roles(path: Path) -> dict:
    data = yaml.safe_load(path.read_text("utf-8"))
    ok = (isinstance(data, dict) and isinstance(data.get("unit"), str)
          and isinstance(data.get("admins"), list) and isinstance(data.get("leaders"), list)
          and all(isinstance(item, dict) and {"userid", "unit"} <= set(item) for item in data["leaders"]))
    if not ok:
        raise ValueError(f"{path}: 需要 unit（文字）、admins（工号列表）和 leaders（userid + unit 列表）")
    return data


def _require_member(session: Session, userid: str) -> None:
    if org.find_member(session, userid) is None:
        raise ValueError(f"roles.yaml: 名单中没有「{userid}」")
