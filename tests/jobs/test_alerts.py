"""Deliveries WeCom refused reach the admins, once, through the real outbound path and the stand-in."""
from bot import outbox
from bot.outgoing import Text
from jobs.alerts import alert_admins_of_failures
from tests.standin_http import control, messages


def test_refused_delivery_is_reported_to_admins_once(sender, standin_url):
    control(standin_url, {"fail_next": [{"path": "message/send", "errcode": 60020}]})
    summary = outbox.deliver_to_members(push_id="weekly-1", userids=["u001"], message=Text("本周学习").to_dict())
    assert summary["failed"] == 1

    assert alert_admins_of_failures(due="2026-11-25T09:30:00+08:00") == 1
    to_admin = messages(standin_url, recipient="admin01")
    assert len(to_admin) == 1
    content = to_admin[0]["body"]["text"]["content"]
    assert "weekly-1" in content and "60020" in content and "可信 IP" in content

    assert alert_admins_of_failures(due="2026-11-25T09:40:00+08:00") == 0
    assert len(messages(standin_url, recipient="admin01")) == 1


def test_nothing_to_report_sends_nothing(sender, standin_url):
    assert alert_admins_of_failures(due="2026-11-25T09:30:00+08:00") == 0
    assert messages(standin_url) == []


def test_a_send_whose_retries_ran_out_is_recorded_and_reported(sender, standin_url):
    from rq import Retry

    from bot.outbox import deliver_to_members, record_exhausted_retries
    from bot.tasks import OUTBOX, get_jobs
    from bot.wecom.errors import RetryableWeComError

    queue = get_jobs(sender).queue(OUTBOX)
    job = queue.create_job(deliver_to_members, kwargs=dict(push_id="weekly-2", userids=["u002", "u003"],
                                                           message=Text("本周学习").to_dict()),
                           retry=Retry(max=2))
    busy = RetryableWeComError(-1, "system busy", "message/send")
    record_exhausted_retries(job, queue.connection, type(busy), busy, None)      # RQ will try again
    assert alert_admins_of_failures(due="2026-11-25T09:30:00+08:00") == 0

    job.retries_left = 0                                                           # the last try failed
    record_exhausted_retries(job, queue.connection, type(busy), busy, None)
    assert alert_admins_of_failures(due="2026-11-25T09:40:00+08:00") == 2
    content = messages(standin_url, recipient="admin01")[0]["body"]["text"]["content"]
    assert "weekly-2" in content and "user:u002" in content


def test_admins_hear_once_when_next_years_holidays_are_missing(sender, standin_url):
    from jobs.alerts import warn_admins_of_calendar_end

    assert warn_admins_of_calendar_end(due="2026-11-01T09:05:00+08:00") == []
    assert messages(standin_url) == []
    assert warn_admins_of_calendar_end(due="2026-12-01T09:05:00+08:00") == [2027]
    assert warn_admins_of_calendar_end(due="2027-01-01T09:05:00+08:00") == [2027]     # still missing: no repeat
    to_admin = messages(standin_url, recipient="admin01")
    assert len(to_admin) == 1 and "2027 年" in to_admin[0]["body"]["text"]["content"]
