"""Settings and the process role: WECOM_BOT_ID/SECRET turn the long connection on; bad values fail at start."""
from __future__ import annotations

import pytest

from bot.config import REAL_LONGCONN_URL, SECRET_KEYS, ConfigError, load_settings
from bot.runner import STOP_ORDER, _roles
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN

TENANT = {"WECOM_CORP_ID": TEST_CORP_ID, "WECOM_TOKEN": TEST_TOKEN, "WECOM_AES_KEY": TEST_AES_KEY}


def settings(tmp_path, **env):
    return load_settings({"INSTANCE_PATH": str(tmp_path), **env})


def test_without_bot_credentials_there_is_no_long_connection(tmp_path):
    found = settings(tmp_path, **TENANT)
    assert found["WECOM_BOT_ID"] is None and "longconn" not in _roles(found)


def test_a_tenant_dials_the_real_server_by_default(tmp_path):
    found = settings(tmp_path, **TENANT, WECOM_BOT_ID="aibBot01", WECOM_BOT_SECRET="s3cret-long")
    assert found["WECOM_LONGCONN_URL"] == REAL_LONGCONN_URL == "wss://openws.work.weixin.qq.com"
    roles = _roles(found)
    assert roles["longconn"][-2:] == ["bot", "longconn"] and "standin-longconn" not in roles
    assert "WECOM_BOT_SECRET" in SECRET_KEYS and "longconn" in STOP_ORDER


def test_the_demo_has_its_own_bot_dialling_the_local_stand_in(tmp_path):
    found = settings(tmp_path, PORT="8100")
    assert found["DEMO_MODE"] and found["WECOM_BOT_ID"] and found["WECOM_BOT_SECRET"]
    assert found["WECOM_LONGCONN_URL"] == "ws://127.0.0.1:8101"
    assert list(_roles(found))[-2:] == ["standin-longconn", "longconn"]
    assert settings(tmp_path, PORT="8100")["WECOM_BOT_SECRET"] == found["WECOM_BOT_SECRET"]   # kept for restarts


def test_a_unit_with_only_the_long_connection_is_live_with_its_callbacks_off(tmp_path):
    found = settings(tmp_path, WECOM_BOT_ID="aibBot01", WECOM_BOT_SECRET="s3cret-long")
    assert not found["DEMO_MODE"] and found["WECOM_LONGCONN_URL"] == REAL_LONGCONN_URL
    assert found["WECOM_TOKEN"] is None and found["WECOM_AGENT_ID"] is None
    assert "standin-longconn" not in _roles(found) and "longconn" in _roles(found)


def test_its_callback_endpoints_answer_404(tmp_path):
    from bot import create_app
    from tests.conftest import make_settings

    app = create_app({**make_settings(tmp_path), "WECOM_TOKEN": None, "WECOM_AES_KEY": None})
    client = app.test_client()
    assert client.get("/wecom/aibot?msg_signature=a&timestamp=1&nonce=b&echostr=c").status_code == 404
    assert client.post("/wecom/robot?msg_signature=a&timestamp=1&nonce=b", data=b"<xml/>").status_code == 404


@pytest.mark.parametrize("env, named", [
    ({"WECOM_BOT_ID": "aibBot01"}, "WECOM_BOT_SECRET"),
    ({"WECOM_BOT_SECRET": "s3cret"}, "WECOM_BOT_ID"),
    ({"WECOM_BOT_ID": "aib bot", "WECOM_BOT_SECRET": "s3cret"}, "WECOM_BOT_ID"),
    ({"WECOM_BOT_ID": "aibBot01", "WECOM_BOT_SECRET": "s3cret", "WECOM_LONGCONN_URL": "https://x"},
     "WECOM_LONGCONN_URL"),
    ({"WECOM_BOT_ID": "aibBot01", "WECOM_BOT_SECRET": "s3cret", "WECOM_CORP_ID": ""}, "WECOM_CORP_ID"),
])
def test_bad_settings_fail_with_one_line_naming_them(tmp_path, env, named):
    with pytest.raises(ConfigError) as failure:
        settings(tmp_path, **{**TENANT, **env})
    assert named in str(failure.value) and "\n" not in str(failure.value)


def test_a_demo_instance_from_before_the_long_connection_gets_bot_credentials_added(tmp_path):
    import json

    old = {"corp_id": "wwdemo0reservoir", "token": "t0ken0ld", "aes_key": "k" * 43, "agent_id": 1000002,
           "secret": "s" * 32}
    (tmp_path / "demo-wecom.json").write_text(json.dumps(old), "utf-8")
    found = settings(tmp_path)
    assert found["DEMO_MODE"] and found["WECOM_TOKEN"] == "t0ken0ld"        # the callback credentials are kept
    assert found["WECOM_BOT_ID"] and found["WECOM_BOT_SECRET"]
    stored = json.loads((tmp_path / "demo-wecom.json").read_text("utf-8"))
    assert stored["bot_secret"] == found["WECOM_BOT_SECRET"] and stored["token"] == "t0ken0ld"
