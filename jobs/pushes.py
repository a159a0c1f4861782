"""Push fan-out and the cohorts' scheduled runs, as RQ jobs.

``fan_out`` turns one Push into outbox jobs: it resolves the audience, drops muted members, chooses
each member's form (channel policy + his preference), renders each distinct (form, voice rate) once,
and queues ``enqueue_to_members`` jobs of ≤ 5000 members sharing one rendering (each job sends ≤ 1000
per call, booking the next batch while one is in flight: ``bot.member_batches``). A rendering of
several messages (a voice clip and its line of text, a news card and its line) is one delivery, a
``bot.outgoing.Series`` under the push's ledger id (``Push.ledger_id``), so the ledger sends the push
to each member at most once, however often the fan-out runs. While it plans, the app's access token is fetched on
a helper thread (``bot.outbox.app_token_fetched_meanwhile``), so the first send does not wait for it.

The fan-out is safe to run again (a retry, or a second worker after the first was killed): job ids
are deterministic, so batches already queued are not queued twice, and receipts are written once.

An ItemReceipt is written when a member's messages are *queued* (just before), not when WeCom confirms them: the
ledger owns delivery (and retries); the receipt only means "this item is his, do not pick it again"
for the scheduled runs, and a member whose send later failed shows up in 推送记录 and the failure alerts.

A group audience (``群:<chat>``, ``群:*``) is posted once per group through its robot webhook
(``enqueue_to_group``), rendered once in the group form (``push_render.group_form``), under the same
ledger id with the group as the recipient, so each group gets the push at most once.
Members' 免打扰 does not apply to group posts, and group posts write no ItemReceipts.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import content_packs
from bot import clock, cohorts, db, workdays
from bot.models import Member
from bot.models.pushes import ItemReceipt, Push, PushOrigin, PushStatus
from bot.outbox import app_token_fetched_meanwhile, enqueue_to_group, enqueue_to_members
from bot.outgoing import Series
from bot.sqlutil import chunks, in_values, insert_each_ignoring_duplicates, values_param
from bot.tasks import app_job, get_jobs
from content_packs.schema import Pack, PushItem
from handlers._services import push_audience
from handlers._services.push_pick import pick_next
from handlers._services.push_policy import get_policy
from handlers._services.push_prefs import preferences
from handlers._services.push_render import group_form, render

log = logging.getLogger(__name__)
JOB_SIZE = 5000            # members per send job; the job sends them ≤1000 per message/send, one call at a time
WORKDAYS_DOW = "1-5"       # a schedule whose weekday field is this runs on the unit's workdays instead


@dataclass(frozen=True)
class Plan:
    """Who gets which rendering of one item: (form, voice rate or None) → userids, sorted."""

    groups: dict[tuple[str, int | None], list[str]] = field(default_factory=dict)
    muted: int = 0

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.groups.values())

    def forms(self) -> dict[str, int]:
        """Members per form, for the admin's reply."""
        counts: dict[str, int] = defaultdict(int)
        for (form, _), ids in self.groups.items():
            counts[form] += len(ids)
        return dict(counts)


def plan(session: Session, item: PushItem, userids: list[str], *, today) -> Plan:
    """Each unmuted member's form (his preference if the item has it, else the policy) and voice rate."""
    policy, rules = get_policy(), cohorts.get_rules()
    prefs = preferences(session, userids)
    memberships = rules.memberships(session, userids, today=today)
    groups: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    chosen: dict[tuple[tuple[str, ...], str | None], tuple[str, int | None]] = {}
    muted = 0
    for userid in userids:
        pref = prefs.get(userid)
        if pref is not None and pref.muted:
            muted += 1
            continue
        situation = (memberships.get(userid, ()), pref.form if pref else None)
        if situation not in chosen:        # members in the same cohorts with the same wish choose alike
            mine, wish = situation
            form = policy.choose(item, mine, wish)
            chosen[situation] = (form, policy.voice_wpm_for(mine) if form == "voice" else None)
        groups[chosen[situation]].append(userid)
    return Plan({key: sorted(ids) for key, ids in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))},
                muted)


def split_ref(item_ref: str) -> tuple[str, str]:
    pack_id, _, item_id = item_ref.partition("/")
    return pack_id, item_id


def fanout_job_id(push_id: int) -> str:
    return f"push-fanout-{push_id}"


def enqueue_fan_out(push: Push, *, userids: list[str] | None = None, at: datetime | None = None):
    """Queue the fan-out of ``push`` now or at ``at``; one job per push (the id is the push's).

    The Push row must be committed first: the worker reads it in another process.
    """
    return get_jobs().enqueue(fan_out, job_id=fanout_job_id(push.id), at=at, push_id=push.id, userids=userids)


@app_job
def fan_out(*, push_id: int, userids: list[str] | None = None) -> dict:
    """Queue the sends of one push; ``userids`` (scheduled runs) narrows the audience to those members.

    Does nothing for a cancelled push. Returns counts: queued members, muted, messages per form.
    """
    session = db.get_session()
    push = session.get(Push, push_id)
    if push is None or push.status == PushStatus.CANCELLED.value:
        log.info("push %s: cancelled or gone, nothing to send", push_id)
        return {"queued": 0, "cancelled": True}
    pack_id, item_id = split_ref(push.item_ref)
    pack = content_packs.get(pack_id)          # the loaded version (an edit since scheduling is sent as edited)
    item = pack.item(item_id)
    now = clock.now()
    audience = push_audience.Audience.from_label(push.audience)
    if audience.kind == push_audience.GROUP and userids is None:
        return _fan_out_to_groups(session, push, pack, item, audience)
    with app_token_fetched_meanwhile():     # while planning: the first message/send need not wait for gettoken
        the_plan = plan(session, item, _audience_userids(session, push, userids, today=now.date()),
                        today=now.date())
        push.status = PushStatus.SENDING.value
        push.detail = _detail(push.detail, recipients=the_plan.size, forms=the_plan.forms())
        session.commit()
        renderings = []
        for (form, rate), ids in the_plan.groups.items():
            renderings.append((ids, Series.of(render(pack, item, form, push_id=push.id, rate_wpm=rate))))
            _record_receipts(session, push, ids, form, now)
        job_size = int(current_app.config.get("PUSH_JOB_SIZE", JOB_SIZE))
        for ids, message in renderings:      # all the bookkeeping is done: the sends follow one another
            for part in chunks(ids, job_size):
                enqueue_to_members(push.ledger_id, part, message)
    push = session.get(Push, push_id)         # RQ_IS_ASYNC=False runs the sends inline; re-read
    push.status = PushStatus.SENT.value
    session.commit()
    return {"queued": the_plan.size, "muted": the_plan.muted, "forms": the_plan.forms()}


def _fan_out_to_groups(session: Session, push: Push, pack: Pack, item: PushItem,
                       audience: push_audience.Audience) -> dict:
    """Post the item once to each group of the audience, in the group form."""
    push_id = push.id
    chats = push_audience.group_chats(audience, current_app.config.get("WECOM_GROUP_WEBHOOKS") or {})
    form = group_form(item)
    push.status = PushStatus.SENDING.value
    push.detail = _detail(push.detail, recipients=len(chats), forms={form: len(chats)} if chats else {})
    session.commit()
    if not chats:
        log.warning("push %s: group %s is no longer configured, nothing to send", push_id, audience.name)
    else:
        message = Series.of(render(pack, item, form, push_id=push_id))
        for chat in chats:
            enqueue_to_group(push.ledger_id, chat, message)
    push = session.get(Push, push_id)         # RQ_IS_ASYNC=False runs the sends inline; re-read
    push.status = PushStatus.SENT.value
    session.commit()
    return {"queued": len(chats), "muted": 0, "forms": {form: len(chats)} if chats else {}, "groups": chats}


def _audience_userids(session: Session, push: Push, userids: list[str] | None, *, today) -> list[str]:
    """The push's audience today, or the given members (a scheduled run's) who are still on the roster."""
    if userids is None:
        audience = push_audience.Audience.from_label(push.audience)
        return push_audience.userids_of(session, audience, rules=cohorts.get_rules(), today=today)
    connection = session.connection()
    query = select(Member.userid).where(in_values(Member.userid, connection.dialect.name))
    return sorted(connection.execute(query, values_param(userids)).scalars())


def _record_receipts(session: Session, push: Push, userids: list[str], form: str, now: datetime) -> None:
    """One receipt per (member, item); an earlier receipt of the same item stays as it is."""
    insert_each_ignoring_duplicates(session, ItemReceipt, "userid", userids,
                                    same=dict(item_ref=push.item_ref, push_id=push.id, form=form, received_at=now))
    session.commit()


def _detail(detail: str, **values) -> str:
    """Push.detail is a small JSON object (the schedule run, the fan-out's counts)."""
    data = read_detail(detail)
    data.update(values)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def read_detail(detail: str | None) -> dict:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- scheduled runs ------------------------------------------------------------------------------

def schedule_entry_name(cohort: str) -> str:
    """An ASCII entry name per cohort (it becomes part of RQ job ids and Redis keys)."""
    return "cohort-push-" + hashlib.sha256(cohort.encode("utf-8")).hexdigest()[:10]


def schedule_cron(cron: str) -> str:
    """The cron the tick matches: a Mon–Fri schedule fires daily and ``run_schedule`` keeps the workdays."""
    fields = cron.split()
    if fields[4] == WORKDAYS_DOW:
        fields[4] = "*"
    return " ".join(fields)


@app_job
def run_schedule(*, due: str, cohort: str) -> list[int]:
    """One scheduled run for ``cohort``: each member's next unreceived item, one Push per item.

    Safe to run twice for the same ``due`` minute: the run's pushes are found again by their run key,
    the picks ignore receipts of this run and use a per-(run, member) seed, so they come out the same.

    Returns:
        The ids of the run's pushes.
    """
    schedule = next((s for s in get_policy().schedules if s.cohort == cohort), None)
    due_at = datetime.fromisoformat(due)
    now = clock.now()
    if schedule is None:
        log.warning("scheduled push for %s: no such schedule any more", cohort)
        return []
    local_day = due_at.astimezone(now.tzinfo).date() if due_at.tzinfo else due_at.date()
    if schedule.cron.split()[4] == WORKDAYS_DOW and not workdays.is_workday(local_day):
        return []
    session = db.get_session()
    run_key = f"{schedule_entry_name(cohort)}:{due}"
    packs = [content_packs.get(p) for p in schedule.packs if p in content_packs.get_packs()]
    candidates = [f"{pack.id}/{item.id}" for pack in packs if pack.is_for([cohort]) for item in pack.items]
    members = push_audience.members_of(session, push_audience.Audience(push_audience.COHORT, cohort),
                                       rules=cohorts.get_rules(), today=now.date())
    prefs = preferences(session, [m.userid for m in members])
    members = [m for m in members if not (prefs.get(m.userid) and prefs[m.userid].muted)]
    existing = _run_pushes(session, run_key)
    received = _received(session, [m.userid for m in members], ignore={p.id for p in existing.values()})
    by_item: dict[str, list[str]] = defaultdict(list)
    for member in members:
        rng = random.Random(f"{run_key}:{member.userid}")
        ref = pick_next(session, cohort=cohort, candidates=candidates, received=received[member.userid], rng=rng)
        if ref is not None:
            by_item[ref].append(member.userid)
    pushes = []
    for ref, userids in sorted(by_item.items()):
        push = existing.get(ref) or _create_run_push(session, ref, cohort, run_key, now)
        enqueue_fan_out(push, userids=sorted(userids))
        pushes.append(push.id)
    return pushes


def _run_pushes(session: Session, run_key: str) -> dict[str, Push]:
    rows = session.scalars(select(Push).where(Push.origin == PushOrigin.SCHEDULE.value,
                                              Push.detail.contains(json.dumps(run_key, ensure_ascii=False))))
    return {p.item_ref: p for p in rows if read_detail(p.detail).get("run") == run_key}


def _received(session: Session, userids: list[str], *, ignore: set[int]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for part in chunks(userids):
        query = select(ItemReceipt.userid, ItemReceipt.item_ref, ItemReceipt.push_id).where(
            ItemReceipt.userid.in_(part))
        for userid, ref, push_id in session.execute(query):
            if push_id not in ignore:
                found[userid].add(ref)
    return found


def _create_run_push(session: Session, item_ref: str, cohort: str, run_key: str, now: datetime) -> Push:
    pack_id, _ = split_ref(item_ref)
    push = Push(item_ref=item_ref, pack_version=content_packs.get(pack_id).version, audience=f"人群:{cohort}",
                origin=PushOrigin.SCHEDULE.value, status=PushStatus.SENDING.value, scheduled_for=now,
                created_by="schedule", created_at=now, detail=_detail("", run=run_key))
    session.add(push)
    session.commit()
    return push


def find_pack_item(item_ref: str) -> tuple[Pack, PushItem]:
    """The loaded pack and item of a ref. Raises KeyError when either is gone."""
    pack_id, item_id = split_ref(item_ref)
    pack = content_packs.get(pack_id)
    return pack, pack.item(item_id)



def cohort_push_entries(entry_type) -> list:
    """The schedule entries (``jobs.schedule.Entry``) of the policy's cohort schedules."""
    return [entry_type(schedule_entry_name(s.cohort), schedule_cron(s.cron), run_schedule, {"cohort": s.cohort})
            for s in get_policy().schedules]
