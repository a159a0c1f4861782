"""`rq cron jobs/cron.py`: one tick a minute; the tick decides what is due (jobs/schedule.py)."""
from rq import cron

from bot.tasks import DEFAULT
from jobs.schedule import tick

cron.register(tick, DEFAULT, interval=60, result_ttl=600, failure_ttl=24 * 3600)
