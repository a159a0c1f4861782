"""Group contests (竞赛): the contest's state and scoring in Redis, and what is stored and ranked afterwards.

A group has at most one contest, a Redis hash under ``CONTEST`` (per chat). Exactly one question is
open at a time; every change of state is one Lua script, so web workers answering and the RQ job
closing a question never see half a change:

- ``submit``: one script per answer decides, atomically, whether it counts. The first answer of a
  member to the open question counts; a second one is ``AGAIN``; one after the deadline, or after
  the question was closed, is ``LATE``. "Now" comes from the app's injected clock as an argument,
  the script never reads the server clock.
- ``close``: moves the contest from question i to i+1 (or finishes it after the last one). A second
  run for the same question answers ``AGAIN`` so a retried job can redo its idempotent side effects.
- ``stop``: 结束竞赛, finishes a running contest early.

Scoring (documented for the group in the rules line): a right answer earns 100 points when given at
the moment the question opens, falling linearly to 50 points at the deadline; a wrong answer earns 0
but counts as taking part. Points are added to the contest's sorted set ``CONTEST_SCORES`` inside
the answer script, so the leaderboard is exact at any time. Answers are written to ``QuizAnswer``
(mode contest, ``session_ref`` = contest id) in one batch when their question closes.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from enum import Enum
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import NoScriptError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import keys
from bot.models import Member, OrgUnit
from bot.models.quiz import Outcome, QuizAnswer, QuizMode
from content_packs import Question
from content_packs.answers import UnreadableReply, grade
from handlers._services import question_bank
from handlers._services.question_bank import BankQuestion

DEFAULT_QUESTIONS, MIN_QUESTIONS, MAX_QUESTIONS = 5, 1, 20
DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS = 30, 10, 300
FULL_POINTS, DEADLINE_POINTS = 100, 50
MAX_ANSWER_CHARS = 40               # longer @-messages are chat, not answers
FINISHED_TTL = 10 * 60              # a finished contest is remembered briefly: late answers hear it is over
SCORES_TTL = 24 * 3600
RUNNING_SLACK = 3600                # a contest whose worker died frees the group after this

RUNNING, FINISHED = "running", "finished"          # the stored status
BY_CLOSE, BY_STOP = "closed", "stopped"            # how a finished contest ended


class Verdict(str, Enum):
    """What became of one answer (``submit``)."""

    COUNTED = "counted"
    AGAIN = "again"          # the member's first answer to this question was already counted
    LATE = "late"            # after the deadline, or the question was already closed
    ENDED = "ended"          # the contest was stopped


class Closing(str, Enum):
    """What closing a question did (``close``)."""

    DONE = "done"            # this call moved the contest on
    AGAIN = "again"          # an earlier call did; its idempotent side effects may be redone
    STALE = "stale"          # the contest was stopped, or the question is an older one
    GONE = "gone"            # another contest, or none


@dataclass(frozen=True)
class Contest:
    """A group's contest as stored; ``index`` is the open (or last) question, counted from 0."""

    id: str
    chat_id: str
    title: str
    questions: tuple[tuple[str, int], ...]     # (question ref, pack version)
    seconds: int
    index: int
    opened_ms: int
    deadline_ms: int
    status: str
    ended_by: str = ""

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def is_last(self) -> bool:
        return self.index == len(self.questions) - 1

    def question(self, index: int | None = None) -> BankQuestion | None:
        """The question at ``index`` (default: the open one); None if its pack is gone."""
        ref = self.questions[self.index if index is None else index][0]
        return question_bank.find(ref)

    def deadline(self, zone) -> datetime:
        return datetime.fromtimestamp(self.deadline_ms / 1000, tz=zone)


@dataclass(frozen=True)
class Answer:
    userid: str
    reply: str
    correct: bool
    points: int
    at_ms: int
    elapsed_ms: int          # from the question opening to the answer


@dataclass(frozen=True)
class Standings:
    players: list[tuple[str, str, int]]          # (name, department, points), best first
    departments: list[tuple[str, float, int]]    # (department, average points, players), best first
    participants: int = 0


# -- options and drawing -------------------------------------------------------------------------

def parse_options(text: str | None) -> tuple[int, int]:
    """「5 30」「5题 30秒」「10道 1分钟」「30秒」 → (questions, seconds per question).

    Raises:
        ValueError: a Chinese message naming the value out of bounds or not understood.
    """
    count, seconds, bare = None, None, []
    for token in (text or "").replace("，", " ").replace(",", " ").split():
        match = re.fullmatch(r"(\d+|[一二两三四五六七八九十]+)(题|道|道题|个)?(秒钟?|s|分钟?|min)?", token.lower())
        if not match:
            raise ValueError(f"没看懂「{token}」，题数和秒数请写数字，如「5 30」或「5题 30秒」。")
        number = _number(match.group(1))
        if match.group(3):
            seconds = number * 60 if match.group(3).startswith(("分", "min")) else number
        elif match.group(2):
            count = number
        else:
            bare.append(number)
    for number in bare:
        if count is None:
            count = number
        elif seconds is None:
            seconds = number
        else:
            raise ValueError("最多写两个数字：题数和每题秒数。")
    count = DEFAULT_QUESTIONS if count is None else count
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    if not MIN_QUESTIONS <= count <= MAX_QUESTIONS:
        raise ValueError(f"题数请在 {MIN_QUESTIONS}–{MAX_QUESTIONS} 之间，您写的是 {count}。")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ValueError(f"每题时间请在 {MIN_SECONDS}–{MAX_SECONDS} 秒之间，您写的是 {seconds} 秒。")
    return count, seconds


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    digits = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    tens, _, ones = word.partition("十")
    if "十" not in word:
        return digits.get(word, 0) if len(word) == 1 else 0
    return (digits.get(tens, 0) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)


def new_contest_id(chat_id: str, now: datetime, msg_id: str) -> str:
    """Readable and unique: the start minute plus a digest of the group and the start message."""
    digest = hashlib.sha1(f"{chat_id}\x1f{msg_id}".encode()).hexdigest()[:8]
    return f"ct-{now:%Y%m%d%H%M%S}-{digest}"


def draw(questions: list[BankQuestion], count: int, contest_id: str) -> list[BankQuestion]:
    """``count`` distinct questions in an order seeded by the contest (so a retry draws the same)."""
    return random.Random(contest_id).sample(questions, min(count, len(questions)))


# -- answers -------------------------------------------------------------------------------------

def judge(question: Question, reply: str) -> bool | None:
    """Whether ``reply`` answers ``question`` right; None when it is no answer at all (chat, 不知道).

    Reading the reply (letters in any width, the option text, 对/错, fill-in synonyms) is
    content_packs.answers' job; this only keeps long chat out of a fill-in question.
    """
    if not reply or len(reply) > MAX_ANSWER_CHARS:
        return None
    try:
        return grade(question.type, question.answer, reply, options=question.options)
    except UnreadableReply:
        return None


def points_for(correct: bool, at_ms: int, opened_ms: int, deadline_ms: int) -> int:
    """100 at the opening moment, linearly down to 50 at the deadline; 0 for a wrong answer."""
    if not correct:
        return 0
    window = max(deadline_ms - opened_ms, 1)
    left = min(max(deadline_ms - at_ms, 0), window)
    return round(DEADLINE_POINTS + (FULL_POINTS - DEADLINE_POINTS) * left / window)


# -- state in Redis ------------------------------------------------------------------------------

_START = """
if redis.call('HGET', KEYS[1], 'status') == 'running' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS: state, answers of the question, scores. ARGV: contest id, index, userid, now ms, points, payload, ttl
_ANSWER = """
local s = redis.call('HMGET', KEYS[1], 'id', 'status', 'index', 'phase', 'deadline_ms')
if s[1] ~= ARGV[1] then return {'late', 0} end
if s[2] ~= 'running' then return {'ended', 0} end
if s[3] ~= ARGV[2] or s[4] ~= 'open' or tonumber(ARGV[4]) > tonumber(s[5]) then return {'late', 0} end
if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[6]) == 0 then return {'again', 0} end
redis.call('ZINCRBY', KEYS[3], ARGV[5], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[7])
return {'counted', tonumber(ARGV[5])}
"""

# ARGV: contest id, index being closed, is last (1/0), next opened ms, next deadline ms, ttl
_CLOSE = """
local s = redis.call('HMGET', KEYS[1], 'id', 'status', 'index', 'ended_by')
if s[1] ~= ARGV[1] then return 'gone' end
local current, closing = tonumber(s[3]), tonumber(ARGV[2])
if s[2] == 'running' and current == closing then
  if ARGV[3] == '1' then
    redis.call('HSET', KEYS[1], 'status', 'finished', 'phase', 'closed', 'ended_by', 'closed')
    redis.call('EXPIRE', KEYS[1], ARGV[7])
  else
    redis.call('HSET', KEYS[1], 'index', closing + 1, 'phase', 'open', 'opened_ms', ARGV[4], 'deadline_ms', ARGV[5])
    redis.call('EXPIRE', KEYS[1], ARGV[6])
  end
  return 'done'
end
if s[2] == 'running' and current == closing + 1 then return 'again' end
if s[2] == 'finished' and s[4] == 'closed' and current == closing then return 'again' end
return 'stale'
"""

_STOP = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'finished', 'phase', 'closed', 'ended_by', 'stopped')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


def _run(redis: Redis, script: str, keys_: list[str], args: list) -> object:
    """EVALSHA, loading the script on first use (each answer sends 40 bytes, not the whole script)."""
    sha = hashlib.sha1(script.encode()).hexdigest()
    try:
        return redis.evalsha(sha, len(keys_), *keys_, *args)
    except NoScriptError:
        return redis.eval(script, len(keys_), *keys_, *args)


def find(redis: Redis, chat_id: str) -> Contest | None:
    """The group's contest (running, or finished in the last few minutes), or None."""
    raw = redis.hgetall(keys.CONTEST.format(chat_id=chat_id))
    if not raw:
        return None
    f = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
         for k, v in raw.items()}
    return Contest(id=f["id"], chat_id=chat_id, title=f["title"],
                   questions=tuple((ref, int(ver)) for ref, ver in json.loads(f["questions"])),
                   seconds=int(f["seconds"]), index=int(f["index"]), opened_ms=int(f["opened_ms"]),
                   deadline_ms=int(f["deadline_ms"]), status=f["status"], ended_by=f.get("ended_by", ""))


def start(redis: Redis, *, chat_id: str, contest_id: str, title: str, questions: list[BankQuestion],
          seconds: int, now: datetime) -> Contest | None:
    """Open the first question of a new contest; None when the group already has one running."""
    opened = _ms(now)
    fields = {"id": contest_id, "title": title, "seconds": seconds, "index": 0, "phase": "open",
              "status": RUNNING, "opened_ms": opened, "deadline_ms": opened + seconds * 1000,
              "questions": json.dumps([[bq.ref, bq.pack.version] for bq in questions])}
    ttl = len(questions) * seconds + RUNNING_SLACK
    args = [ttl] + [part for pair in fields.items() for part in pair]
    if not _run(redis, _START, [keys.CONTEST.format(chat_id=chat_id)], args):
        return None
    return find(redis, chat_id)


def submit(redis: Redis, contest: Contest, *, userid: str, reply: str, correct: bool,
           now: datetime) -> tuple[Verdict, int]:
    """Count a member's answer to the open question once; returns the verdict and the points added."""
    at = _ms(now)
    points = points_for(correct, at, contest.opened_ms, contest.deadline_ms)
    payload = json.dumps({"r": reply[:200], "c": int(correct), "p": points, "t": at, "e": at - contest.opened_ms},
                         ensure_ascii=False)
    state_key = keys.CONTEST.format(chat_id=contest.chat_id)
    answers_key = keys.CONTEST_ANSWERS.format(contest_id=contest.id, index=contest.index)
    scores_key = keys.CONTEST_SCORES.format(contest_id=contest.id)
    status, counted = _run(redis, _ANSWER, [state_key, answers_key, scores_key],
                           [contest.id, contest.index, userid, at, points, payload, SCORES_TTL])
    return Verdict(status.decode() if isinstance(status, bytes) else status), int(counted)


def close(redis: Redis, contest: Contest, index: int, *, now: datetime) -> Closing:
    """Close question ``index``: open the next one from ``now``, or finish after the last one."""
    opened = _ms(now)
    last = "1" if index >= len(contest.questions) - 1 else "0"
    remaining = len(contest.questions) - index - 1
    args = [contest.id, index, last, opened, opened + contest.seconds * 1000,
            remaining * contest.seconds + RUNNING_SLACK, FINISHED_TTL]
    result = _run(redis, _CLOSE, [keys.CONTEST.format(chat_id=contest.chat_id)], args)
    return Closing(result.decode() if isinstance(result, bytes) else result)


def stop(redis: Redis, chat_id: str) -> Contest | None:
    """Finish the group's running contest now; returns it as finished, or None when none was running."""
    if not _run(redis, _STOP, [keys.CONTEST.format(chat_id=chat_id)], [FINISHED_TTL]):
        return None
    return find(redis, chat_id)


def answers_of(redis: Redis, contest: Contest, index: int) -> list[Answer]:
    """Every counted answer to question ``index``, fastest first."""
    raw = redis.hgetall(keys.CONTEST_ANSWERS.format(contest_id=contest.id, index=index))
    found = []
    for userid, payload in raw.items():
        value = json.loads(payload)
        userid = userid.decode() if isinstance(userid, bytes) else userid
        found.append(Answer(userid, value["r"], bool(value["c"]), int(value["p"]), int(value["t"]), int(value["e"])))
    return sorted(found, key=lambda a: (a.at_ms, a.userid))


def _ms(moment: datetime) -> int:
    return int(round(moment.timestamp() * 1000))


# -- records and ranking -------------------------------------------------------------------------

def record_answers(session: Session, contest: Contest, index: int, answers: list[Answer], zone: ZoneInfo) -> int:
    """Store the answers to one question as QuizAnswer rows in one batch; rows already stored are
    skipped, so closing twice stores nothing twice. Returns how many rows were added."""
    ref, version = contest.questions[index]
    stored = set(session.scalars(select(QuizAnswer.userid).where(
        QuizAnswer.session_ref == contest.id, QuizAnswer.question_ref == ref)))
    rows = []
    for answer in answers:
        if answer.userid in stored:
            continue
        at = datetime.fromtimestamp(answer.at_ms / 1000, tz=zone)
        rows.append(QuizAnswer(userid=answer.userid, question_ref=ref, pack_version=version,
                               mode=QuizMode.CONTEST.value, session_ref=contest.id,
                               outcome=(Outcome.RIGHT if answer.correct else Outcome.WRONG).value,
                               reply=answer.reply, seconds=answer.elapsed_ms / 1000,
                               day=at.date(), answered_at=at))
    session.add_all(rows)
    session.flush()
    return len(rows)


def names_of(session: Session, userids: list[str]) -> dict[str, tuple[str, str]]:
    """userid → (name, department name) from the roster, in one query."""
    if not userids:
        return {}
    rows = session.execute(select(Member.userid, Member.name, OrgUnit.name)
                           .join(OrgUnit, OrgUnit.id == Member.department_id)
                           .where(Member.userid.in_(userids)))
    return {userid: (name, department) for userid, name, department in rows}


def standings(redis: Redis, session: Session, contest: Contest, *, top: int = 10) -> Standings:
    """The top players and each department's average over the members who took part."""
    raw = redis.zrange(keys.CONTEST_SCORES.format(contest_id=contest.id), 0, -1, withscores=True)
    scores = {(u.decode() if isinstance(u, bytes) else u): int(s) for u, s in raw}
    names = names_of(session, list(scores))
    players = sorted(((names.get(u, (u, ""))[0], names.get(u, (u, ""))[1], p, u) for u, p in scores.items()),
                     key=lambda row: (-row[2], row[0], row[3]))
    by_department: dict[str, list[int]] = {}
    for _, department, points, _ in players:
        by_department.setdefault(department or "未分部门", []).append(points)
    departments = sorted(((d, round(sum(p) / len(p), 1), len(p)) for d, p in by_department.items()),
                         key=lambda row: (-row[1], row[0]))
    return Standings([(n, d, p) for n, d, p, _ in players[:top]], departments, len(players))
