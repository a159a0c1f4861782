"""The shared question lookup: refs, cohorts, and what people mean by a bank or topic name."""
from handlers._services import question_bank as bank


def test_refs_round_trip_and_unknown_refs_are_none(app):
    first = bank.all_questions()[0]
    assert first.ref == f"{first.pack.id}/{first.question.id}"
    assert bank.find(first.ref).question == first.question
    assert bank.find("quiz_water_policy/no-such-question") is None
    assert bank.find("no_such_pack/x") is None


def test_the_demo_banks_hold_at_least_80_questions(app):
    assert len(bank.all_questions()) >= 80
    assert len({bq.ref for bq in bank.all_questions()}) == len(bank.all_questions())


def test_a_topic_or_a_bank_title_selects_its_questions(app):
    by_topic = bank.matching("水法")
    assert by_topic and all("水法" in bq.topics for bq in by_topic)
    by_title = bank.matching("大坝安全")
    assert by_title and {bq.pack.id for bq in by_title} == {"quiz_dam_safety"}
    assert bank.matching("ＱＵＩＺ_DAM_SAFETY") == by_title
    assert bank.matching("天文学") == []


def test_audience_limits_the_questions_for_a_cohort(app):
    everyone = bank.for_cohorts([])
    assert everyone and all(not bq.pack.audience for bq in everyone)
    assert len(bank.for_cohorts(["退休", "青年", "临退休"])) >= len(everyone)
