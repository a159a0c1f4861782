"""The worker class for `rq worker --worker-class jobs.worker.AppWorker`: builds the app once,
before forking, so each job's work horse starts with config, engine and dictionaries loaded."""
import sys

from rq import Worker

from bot.config import ConfigError
from content_packs import PackError
from bot.tasks import worker_app


class AppWorker(Worker):
    def __init__(self, *args, **kwargs):
        try:
            worker_app()
        except (ConfigError, PackError) as exc:
            print(f"配置错误 / configuration error: {exc}", file=sys.stderr, flush=True)
            sys.exit(2)
        super().__init__(*args, **kwargs)
