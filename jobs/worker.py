"""The worker class for `rq worker --worker-class jobs.worker.AppWorker`: builds the app once,
before forking, so each job's work horse starts with config, engine and dictionaries loaded."""
from rq import Worker

from bot.tasks import worker_app


class AppWorker(Worker):
    def __init__(self, *args, **kwargs):
        worker_app()
        super().__init__(*args, **kwargs)
