"""The WSGI entry point for gunicorn: the app from the environment, or one line saying what is wrong."""
import sys

from bot import create_app
from bot.config import ConfigError
from content_packs import PackError

try:
    app = create_app()
except (ConfigError, PackError) as exc:
    print(f"配置错误 / configuration error: {exc}", file=sys.stderr, flush=True)
    sys.exit(2)
