"""思政助手: the app factory, the only function that knows every subsystem."""
from __future__ import annotations

from flask import Flask
from redis import Redis

from bot import clock as clock_module
from bot import db, redis_store, tasks
from bot.clock import Clock
from bot.config import load_settings
from bot.logs import install_secret_filter

MAX_CALLBACK_BYTES = 64 * 1024


def create_app(config: dict | None = None, *, redis: Redis | None = None, clock: Clock | None = None) -> Flask:
    """Build a fully wired app.

    Args:
        config: settings as ``load_settings`` returns them; read from the environment when omitted.
        redis: a Redis client to use instead of connecting to REDIS_URL (tests).
        clock: a function returning an aware 'now' (tests, the demo clock).

    Raises:
        ConfigError: a setting is missing or malformed.
        PackError: a content pack is invalid (every error, with file and line).
        DuplicateCommand: two commands claim the same name or alias.
    """
    settings = load_settings() if config is None else dict(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    # Flask's default is "no limit"; a callback is a few KiB, so refuse anything large with 413
    app.config["MAX_CONTENT_LENGTH"] = settings.get("MAX_CONTENT_LENGTH") or MAX_CALLBACK_BYTES
    install_secret_filter(app.config)

    db.init_app(app)
    redis_store.init_app(app, client=redis)
    if clock is None and app.config.get("DEMO_MODE"):
        from bot.democlock import DemoClock

        clock = DemoClock(app)            # the simulator page can move time forward for every process
    clock_module.init_app(app, clock)
    tasks.init_app(app)

    from bot import cohorts, nlp, router
    from bot.cli import register_cli

    nlp.load()
    cohorts.init_app(app)
    import content_packs
    from content_packs.cli import exit_under_flask_cli
    from content_packs.cli import register_cli as register_packs_cli

    try:
        content_packs.init_app(app)      # every pack validated: an invalid one stops the start
    except content_packs.PackError as error:
        exit_under_flask_cli(error)      # `flask --app bot …`: the errors and exit code 1, not a traceback
        raise
    register_cli(app)
    register_packs_cli(app)
    from bot.cli_db import db_cli

    app.cli.add_command(db_cli)

    router.init_app(app, modules=app.config.get("HANDLER_MODULES"))

    from bot import callback, health

    app.register_blueprint(callback.bp)
    app.register_blueprint(health.bp)
    if app.config.get("DEMO_MODE") or app.config.get("STANDIN_ENABLED"):
        from bot.standin import bp as standin_bp

        app.register_blueprint(standin_bp, url_prefix="/standin")
    if app.config.get("DEMO_MODE"):
        from bot.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp, url_prefix="/simulator")
    from bot.dashboard import bp as dashboard_bp

    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    return app
