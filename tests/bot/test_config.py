"""Settings: clear one-line errors naming the setting, demo mode, and secrets kept out of logs."""
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import REAL_WECOM_API_BASE, ConfigError, load_settings
from bot.logs import SecretFilter, install_secret_filter
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def real_env(tmp_path, **overrides):
    env = {"INSTANCE_PATH": str(tmp_path), "WECOM_CORP_ID": TEST_CORP_ID, "WECOM_TOKEN": TEST_TOKEN,
           "WECOM_AES_KEY": TEST_AES_KEY, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s3cretValue0123"}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_defaults(tmp_path):
    settings = load_settings(real_env(tmp_path))
    assert settings["PORT"] == 8000 and settings["TIMEZONE"] == "Asia/Shanghai"
    assert settings["WECOM_API_BASE"] == REAL_WECOM_API_BASE
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'szzs.sqlite'}"
    assert settings["REDIS_URL"] is None and not settings["DEMO_MODE"]
    assert settings["PUBLIC_URL"] is None
    assert load_settings(real_env(tmp_path, PUBLIC_URL="https://szzs.example.org/"))["PUBLIC_URL"] == \
        "https://szzs.example.org"                 # the dashboard's links are built on it without a double slash


@pytest.mark.parametrize("name, value", [
    ("WECOM_AES_KEY", "short"),
    ("WECOM_TOKEN", "has spaces in it"),
    ("WECOM_AGENT_ID", "abc"),
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("TZ", "Mars/Olympus"),
    ("BOT_ADMINS", "ok1,not ok"),
    ("REDIS_URL", "localhost:6379"),
    ("WECOM_API_BASE", "ftp://example"),
    ("WECOM_GROUP_WEBHOOKS", "no-equals-sign"),
    ("WECOM_GROUP_WEBHOOKS", "{broken json"),
    ("CHECKIN_REMINDER_TIME", "25:00"),
    ("CHECKIN_REMINDER_TIME", "half past four"),
    ("UNIT_DIR", "/no/such/folder"),
    ("CONTENT_PACKS_DIR", "/no/such/folder"),
    ("MIDMONTH_NUDGE_DAY", "31"),
    ("MIDMONTH_NUDGE_DAY", "mid"),
    ("PUBLIC_URL", "szzs.example.org"),
])
def test_malformed_setting_is_named(tmp_path, name, value):
    with pytest.raises(ConfigError) as caught:
        load_settings(real_env(tmp_path, **{name: value}))
    message = str(caught.value)
    assert name in message and "\n" not in message


@pytest.mark.parametrize("missing", ["WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_CORP_ID", "WECOM_SECRET"])
def test_missing_companion_setting_is_named(tmp_path, missing):
    with pytest.raises(ConfigError, match=missing):
        load_settings(real_env(tmp_path, **{missing: None}))


def test_webhooks_parse_pairs_and_json(tmp_path):
    pairs = load_settings(real_env(tmp_path, WECOM_GROUP_WEBHOOKS="wrk1=key1，水情监测群=key2"))
    assert pairs["WECOM_GROUP_WEBHOOKS"] == {"wrk1": "key1", "水情监测群": "key2"}
    as_json = load_settings(real_env(tmp_path, WECOM_GROUP_WEBHOOKS='{"wrk1": "key1"}'))
    assert as_json["WECOM_GROUP_WEBHOOKS"] == {"wrk1": "key1"}


def test_admins_accept_chinese_commas_and_spaces(tmp_path):
    assert load_settings(real_env(tmp_path, BOT_ADMINS=" a1 ，a2,a3 "))["BOT_ADMINS"] == ("a1", "a2", "a3")


def test_no_credentials_is_demo_mode_with_stable_generated_credentials(tmp_path):
    first = load_settings({"INSTANCE_PATH": str(tmp_path), "PORT": "8123"})
    second = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert first["DEMO_MODE"] and first["WECOM_API_BASE"] == "http://127.0.0.1:8123/standin"
    assert first["WECOM_AES_KEY"] == second["WECOM_AES_KEY"] and len(first["WECOM_AES_KEY"]) == 43
    assert first["WECOM_GROUP_WEBHOOKS"]          # the demo group can be pushed to
    assert oct((tmp_path / "demo-wecom.json").stat().st_mode)[-3:] == "600"


def test_run_command_fails_with_one_line_naming_the_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env.update(real_env(tmp_path, WECOM_AES_KEY="tooshort"))
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "WECOM_AES_KEY" in lines[0]
    assert not (tmp_path / "run.json").exists()


def test_secrets_never_reach_the_log(tmp_path, caplog):
    settings = load_settings(real_env(tmp_path, WECOM_GROUP_WEBHOOKS="wrk1=hookKey987654"))
    secret_filter = install_secret_filter(settings)
    caplog.handler.addFilter(secret_filter)
    log = logging.getLogger("test.secrets")
    log.warning("calling %s", "http://x/cgi-bin/message/send?access_token=TOKEN123456789&debug=1")
    log.warning("token=%s key=%s secret=%s", TEST_TOKEN, TEST_AES_KEY, "s3cretValue0123")
    log.warning("webhook https://x/webhook/send?key=hookKey987654")
    try:
        raise RuntimeError(f"failed with {TEST_AES_KEY}")
    except RuntimeError:
        log.exception("boom")
    text = caplog.text
    for secret in ("TOKEN123456789", TEST_TOKEN, TEST_AES_KEY, "s3cretValue0123", "hookKey987654"):
        assert secret not in text
    assert "access_token=***" in text


def test_secret_filter_masks_query_credentials():
    masked = SecretFilter([]).mask("GET /gettoken?corpid=ww1&corpsecret=abcdef&x=1")
    assert "abcdef" not in masked and "corpid=ww1" in masked


def test_quiz_settings_come_from_the_environment_and_are_checked_at_start(tmp_path):
    from bot import create_app
    from bot.config import ConfigError
    from tests.conftest import make_settings

    env = {"INSTANCE_PATH": str(tmp_path), "QUIZ_QUESTIONS": "8", "QUIZ_GROUP_SECONDS_PER_QUESTION": "45"}
    settings = load_settings(env)
    assert settings["QUIZ_QUESTIONS"] == "8" and settings["QUIZ_GROUP_SECONDS_PER_QUESTION"] == "45"
    with pytest.raises(ConfigError, match="QUIZ_QUESTIONS"):
        create_app(make_settings(tmp_path, QUIZ_QUESTIONS="很多"))
