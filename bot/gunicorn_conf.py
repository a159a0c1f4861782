"""gunicorn settings for the web role (Procfile and the one-command run share them)."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"


def default_workers() -> int:
    """Two sync workers per core: each waits on Redis and SQLite for part of every callback, and the
    second keeps the core busy meanwhile (measured: 0.16 -> 0.20 of bare Flask's rate in bench/callback.py)."""
    return 2 * (os.cpu_count() or 1)


workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
# load the app (and its dictionaries) once in the master, then fork: workers share the pages
preload_app = True
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
# the control socket defaults to one path per user, which two instances on a machine would share
control_socket_disable = True


def when_ready(server):
    """Freeze what the master loaded (dictionaries, modules) so the garbage collector in each
    worker never touches those pages and they stay shared after the fork."""
    import gc

    gc.collect()
    gc.freeze()
