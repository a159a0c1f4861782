"""Settings: read from the environment (and an optional .env), validated once at start."""
from __future__ import annotations

import json
import os
import re
import secrets
import string
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REAL_WECOM_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin"
REAL_LONGCONN_URL = "wss://openws.work.weixin.qq.com"     # wecom-longconn.md §1
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
DEFAULT_UNIT_DIR = PROJECT_ROOT / "content_packs" / "demo_unit"

DEMO_GROUP_ID = "wrkDemoGroup01"
DEMO_GROUP_NAME = "水库管理所工作群"
DEMO_GROUP_WEBHOOKS = {DEMO_GROUP_ID: "demo-group-webhook-key", DEMO_GROUP_NAME: "demo-group-webhook-key"}

# Values that must never reach a log line.
SECRET_KEYS = ("WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_SECRET", "WECOM_GROUP_WEBHOOKS", "WECOM_BOT_SECRET")
CALLBACK_KEYS = ("WECOM_CORP_ID", "WECOM_TOKEN", "WECOM_AES_KEY")
APP_API_KEYS = ("WECOM_AGENT_ID", "WECOM_SECRET")
BOT_KEYS = ("WECOM_BOT_ID", "WECOM_BOT_SECRET")

_AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_BOT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class DemoCredentials:
    """Callback credentials the local stand-in and the bot share when no real tenant is set."""

    corp_id: str
    token: str
    aes_key: str
    agent_id: int
    secret: str
    bot_id: str = ""           # the smart bot's long connection (a file written before it existed lacks these)
    bot_secret: str = ""

    @classmethod
    def load_or_create(cls, folder: Path) -> "DemoCredentials":
        # kept in the instance folder so the bot, the terminal client and a restart agree
        path = folder / "demo-wecom.json"
        if path.exists():
            creds = cls(**json.loads(path.read_text("utf-8")))
            if creds.bot_id:
                return creds
            creds = replace(creds, bot_id="aibdemo0reservoir", bot_secret=_random(32))
        else:
            creds = cls(corp_id="wwdemo0reservoir", token=_random(24), aes_key=_random(43), agent_id=1000002,
                        secret=_random(32), bot_id="aibdemo0reservoir", bot_secret=_random(32))
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(creds.__dict__), "utf-8")
        path.chmod(0o600)
        return creds


def _random(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


CAPABILITY_SETTINGS = ("QUIZ_QUESTIONS", "QUIZ_REVIEW_QUESTIONS", "QUIZ_SECONDS_PER_QUESTION",
                       "QUIZ_GROUP_SECONDS_PER_QUESTION")


def load_settings(environ: dict | None = None) -> dict:
    """Turn environment variables into validated settings.

    Args:
        environ: variables to read; defaults to ``os.environ`` after loading ``.env``.

    Returns:
        A dict of settings for ``app.config``.

    Raises:
        ConfigError: a setting is missing or malformed (one line naming it).
    """
    if environ is None:
        from dotenv import load_dotenv

        load_dotenv(PROJECT_ROOT / ".env", override=False)
        environ = dict(os.environ)
    env = {k: v.strip() for k, v in environ.items() if isinstance(v, str)}
    instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
    settings: dict = {
        "INSTANCE_PATH": str(instance),
        "PORT": _port(env.get("PORT", "8000")),
        "TIMEZONE": _timezone(env.get("TZ") or "Asia/Shanghai"),
        "BOT_ADMINS": _userids("BOT_ADMINS", env.get("BOT_ADMINS", "")),
        "REDIS_URL": _url("REDIS_URL", env.get("REDIS_URL"), ("redis://", "rediss://", "unix://")),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'szzs.sqlite'}",
        "WECOM_GROUP_WEBHOOKS": _webhooks(env.get("WECOM_GROUP_WEBHOOKS", "")),
        "CHECKIN_REMINDER_TIME": _clock_time("CHECKIN_REMINDER_TIME", env.get("CHECKIN_REMINDER_TIME") or "16:30"),
        "MIDMONTH_NUDGE_DAY": _day_of_month("MIDMONTH_NUDGE_DAY", env.get("MIDMONTH_NUDGE_DAY") or "15"),
        # the unit's own data: roster, roles, goals, responsibility lists
        "UNIT_DIR": _folder("UNIT_DIR", env.get("UNIT_DIR") or str(DEFAULT_UNIT_DIR)),
        # the content packs (quizzes, pushes, surveys, activities); the shipped demo packs by default
        "CONTENT_PACKS_DIR": _folder("CONTENT_PACKS_DIR", env["CONTENT_PACKS_DIR"]) if env.get("CONTENT_PACKS_DIR")
        else None,
        # the address people open the dashboard at (its sign-in links); the demo uses http://127.0.0.1:PORT
        "PUBLIC_URL": _url("PUBLIC_URL", env.get("PUBLIC_URL"), ("http://", "https://")).rstrip("/")
        if env.get("PUBLIC_URL") else None,
    }
    # capability settings checked by their handler module at start (handlers/_services/quiz_session.py)
    settings.update({name: env[name] for name in CAPABILITY_SETTINGS if env.get(name)})
    settings.update(_wecom(env, instance))
    if settings["DEMO_MODE"] and not settings["WECOM_GROUP_WEBHOOKS"]:
        settings["WECOM_GROUP_WEBHOOKS"] = dict(DEMO_GROUP_WEBHOOKS)
    return settings


def _wecom(env: dict, instance: Path) -> dict:
    """Callback, app API and long-connection settings. With none of them set the bot runs its demo:
    generated credentials shared with the local stand-ins. A unit with only the long connection (no
    public address) sets WECOM_BOT_ID/SECRET alone; its callback endpoints then answer 404."""
    given = {k: env.get(k, "") for k in CALLBACK_KEYS + APP_API_KEYS + BOT_KEYS}
    demo = not any(given.values())
    if demo:
        creds = DemoCredentials.load_or_create(instance)
        port = _port(env.get("PORT", "8000"))
        given = {
            "WECOM_CORP_ID": creds.corp_id, "WECOM_TOKEN": creds.token, "WECOM_AES_KEY": creds.aes_key,
            "WECOM_AGENT_ID": str(creds.agent_id), "WECOM_SECRET": creds.secret,
            "WECOM_BOT_ID": creds.bot_id, "WECOM_BOT_SECRET": creds.bot_secret,
        }
        api_base = env.get("WECOM_API_BASE") or f"http://127.0.0.1:{port}/standin"
    else:
        callbacks_off = not any(given[key] for key in CALLBACK_KEYS) and given["WECOM_BOT_ID"]
        for key in CALLBACK_KEYS:
            if not given[key] and not callbacks_off:
                raise ConfigError(f"{key} is not set (the other WeCom settings are, so it is required)")
        api_base = env.get("WECOM_API_BASE") or REAL_WECOM_API_BASE
    if given["WECOM_TOKEN"] and not _TOKEN.match(given["WECOM_TOKEN"]):
        raise ConfigError("WECOM_TOKEN must be 3-32 letters or digits")
    if given["WECOM_AES_KEY"] and not _AES_KEY.match(given["WECOM_AES_KEY"]):
        raise ConfigError("WECOM_AES_KEY must be the 43-character EncodingAESKey")
    agent_id = given["WECOM_AGENT_ID"]
    if agent_id and not agent_id.isdigit():
        raise ConfigError("WECOM_AGENT_ID must be a number")
    if bool(agent_id) != bool(given["WECOM_SECRET"]):
        missing = "WECOM_SECRET" if agent_id else "WECOM_AGENT_ID"
        raise ConfigError(f"{missing} is not set (the app API needs both WECOM_AGENT_ID and WECOM_SECRET)")
    if agent_id and not given["WECOM_CORP_ID"]:
        raise ConfigError("WECOM_CORP_ID is not set (the app API needs it with WECOM_AGENT_ID and WECOM_SECRET)")
    return {
        "DEMO_MODE": demo,
        "WECOM_CORP_ID": given["WECOM_CORP_ID"] or None,
        "WECOM_TOKEN": given["WECOM_TOKEN"] or None,
        "WECOM_AES_KEY": given["WECOM_AES_KEY"] or None,
        "WECOM_AGENT_ID": int(agent_id) if agent_id else None,
        "WECOM_SECRET": given["WECOM_SECRET"] or None,
        "WECOM_API_BASE": _url("WECOM_API_BASE", api_base, ("http://", "https://")).rstrip("/"),
        **_longconn(env, given["WECOM_BOT_ID"], given["WECOM_BOT_SECRET"], demo=demo,
                    port=_port(env.get("PORT", "8000"))),
    }


def _longconn(env: dict, bot_id: str, secret: str, *, demo: bool, port: int) -> dict:
    """The smart bot's long connection: both WECOM_BOT_ID and WECOM_BOT_SECRET, or neither.

    In demo mode the URL defaults to the local stand-in (PORT + 1; ``bot run`` starts the stand-in on a free
    port and sets the URL itself), so a demo never dials WeCom.
    """
    if bool(bot_id) != bool(secret):
        missing = "WECOM_BOT_SECRET" if bot_id else "WECOM_BOT_ID"
        raise ConfigError(f"{missing} is not set (the long connection needs both WECOM_BOT_ID and WECOM_BOT_SECRET)")
    if bot_id and not _BOT_ID.match(bot_id):
        raise ConfigError("WECOM_BOT_ID must be the BotID shown under 智能机器人 → API 模式 (letters, digits, _ or -)")
    default = f"ws://127.0.0.1:{port + 1}" if demo else REAL_LONGCONN_URL
    url = _url("WECOM_LONGCONN_URL", env.get("WECOM_LONGCONN_URL") or default, ("ws://", "wss://"))
    return {"WECOM_BOT_ID": bot_id or None, "WECOM_BOT_SECRET": secret or None, "WECOM_LONGCONN_URL": url,
            "LONGCONN_STANDIN": demo and not env.get("WECOM_LONGCONN_URL")}


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a number between 1 and 65535, got {value!r}")
    return int(value)


def _day_of_month(name: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 28:
        raise ConfigError(f"{name} must be a day of the month from 1 to 28, got {value!r}")
    return int(value)


def _clock_time(name: str, value: str) -> str:
    match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", value)
    if not match:
        raise ConfigError(f"{name} must be a time of day such as 16:30, got {value!r}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _folder(name: str, value: str) -> str:
    if not Path(value).is_dir():
        raise ConfigError(f"{name} must be an existing folder, got {value!r}")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TZ must be an IANA time zone such as Asia/Shanghai, got {value!r}") from None
    return value


def _userids(name: str, value: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in value.replace("，", ",").split(",") if part.strip())
    for userid in ids:
        if not _USERID.match(userid):
            raise ConfigError(f"{name} must be comma-separated WeCom userids, got {userid!r}")
    return ids


def _url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value and not value.startswith(schemes):
        raise ConfigError(f"{name} must start with {' or '.join(schemes)}")
    return value or None


def _webhooks(value: str) -> dict[str, str]:
    """Parse ``chat=key`` pairs (comma or newline separated) or a JSON object."""
    if not value:
        return {}
    if value.startswith("{"):
        try:
            mapping = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError("WECOM_GROUP_WEBHOOKS is not valid JSON") from None
    else:
        mapping = {}
        for pair in re.split(r"[,\n，]", value):
            if not pair.strip():
                continue
            chat, sep, key = pair.partition("=")
            if not sep or not chat.strip() or not key.strip():
                raise ConfigError("WECOM_GROUP_WEBHOOKS must be chat=key pairs separated by commas")
            mapping[chat.strip()] = key.strip()
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
        raise ConfigError("WECOM_GROUP_WEBHOOKS must map chat ids or group names to webhook keys")
    return mapping
