"""The delivery ledger on its own: claims, statuses and settling for more recipients than one IN list held."""
from __future__ import annotations

from sqlalchemy import select

from bot import db
from bot.ledger import Ledger
from bot.models.messaging import Delivery
from bot.sqlutil import IN_CHUNK

MANY = 3 * IN_CHUNK + 7          # more recipients than the ledger once bound per statement


def recipients(n: int, start: int = 0) -> list[str]:
    return [f"user:u{i:05d}" for i in range(start, start + n)]


def statuses(push_id: str) -> dict[str, tuple[str, int | None, str]]:
    session = db.get_session()
    session.expire_all()
    query = select(Delivery.recipient, Delivery.status, Delivery.errcode, Delivery.error).where(
        Delivery.push_id == push_id)
    return {r: (s, code, error) for r, s, code, error in session.execute(query)}


def test_a_claim_returns_only_the_new_recipients_in_order_and_leaves_other_rows_alone(app, clock):
    ledger = Ledger(db.get_session(), clock)
    taken_elsewhere = recipients(10, start=40)
    assert ledger.claim("p1", taken_elsewhere, "text") == taken_elsewhere
    ledger.mark_failed("p1", taken_elsewhere[:5], 48002, "refused")
    wanted = list(reversed(recipients(MANY)))
    claimed = ledger.claim("p1", wanted, "voice")
    assert claimed == [r for r in wanted if r not in taken_elsewhere]
    rows = statuses("p1")
    assert len(rows) == MANY
    assert {rows[r] for r in claimed} == {("sending", None, "")}
    assert {rows[r] for r in taken_elsewhere[:5]} == {("failed", 48002, "refused")}
    assert ledger.claim("p2", recipients(3), "text") == recipients(3)      # another push: its own rows
    assert ledger.claim("p1", [], "text") == []


def test_unsent_mark_sent_and_release_cover_every_recipient_in_one_go(app, clock):
    ledger = Ledger(db.get_session(), clock)
    everyone = recipients(MANY)
    ledger.claim("p1", everyone[:-100], "text")
    ledger.mark_failed("p1", everyone[:3], None, "gone")
    assert ledger.unsent("p1", everyone) == set(everyone[-100:])

    ledger.mark_sent("p1", everyone[:-200])                 # a failed row stays failed
    ledger.release("p1", everyone)                          # only the claims still 'sending' go
    rows = statuses("p1")
    assert {r for r, (status, _, _) in rows.items() if status == "sent"} == set(everyone[3:-200])
    assert {r for r, (status, _, _) in rows.items() if status == "failed"} == set(everyone[:3])
    assert set(rows) == set(everyone[:-200])
    assert ledger.unsent("p1", everyone) == set(everyone[-200:])
    assert ledger.unsent("p1", []) == set()


def test_recipients_with_quotes_and_non_ascii_survive_the_json_array(app, clock):
    ledger = Ledger(db.get_session(), clock)
    odd = ['user:o\'brien', 'user:say "hi"', "user:王小明", "user:back\\slash", "group:水情监测班组"]
    assert ledger.claim("p1", odd, "text") == odd
    ledger.mark_sent("p1", odd[:2])
    assert ledger.unsent("p1", [*odd, "user:new"]) == {"user:new"}
    assert {r: s for r, (s, _, _) in statuses("p1").items()} == {
        **{r: "sent" for r in odd[:2]}, **{r: "sending" for r in odd[2:]}}
