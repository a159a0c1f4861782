"""The platform-side crypto matches Tencent's published test vector (wecom-protocol.md §8)."""
from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest

from tests.platform import messages
from tests.platform.crypto import PlatformCrypto

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"

VERIFY = dict(
    msg_signature="012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", timestamp="1476416373", nonce="47744683",
    echostr="fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
)
MESSAGE = dict(
    msg_signature="0c3914025cb4b4d68103f6bfc8db550f79dcf48e", timestamp="1476422779", nonce="1597212914",
    encrypt=(
        "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2"
        "AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8"
        "KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQ"
        "DCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
    ),
)
FIXED_RANDOM = bytes(range(16))


@pytest.fixture
def crypto():
    return PlatformCrypto(TOKEN, AES_KEY, CORP_ID)


def test_url_verification_vector(crypto):
    assert crypto.sign(VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"]) == VERIFY["msg_signature"]
    assert crypto.decrypt(VERIFY["echostr"]) == ("1288432023552776189", CORP_ID)


def test_message_vector(crypto):
    assert crypto.sign(MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"]) == MESSAGE["msg_signature"]
    msg, receiveid = crypto.decrypt(MESSAGE["encrypt"])
    assert receiveid == CORP_ID
    root = ET.fromstring(msg.encode("utf-8"))
    assert root.findtext("MsgType") == "text"
    assert root.findtext("Content") == "你好"
    assert root.findtext("FromUserName") == "ChenJiaShun"
    assert root.findtext("ToUserName") == CORP_ID
    assert root.findtext("AgentID") == "1000002"


def test_signature_changes_with_any_input(crypto):
    base = crypto.sign("1", "2", "x")
    assert base != crypto.sign("1", "3", "x") != PlatformCrypto("other", AES_KEY, "").sign("1", "2", "x")


@pytest.mark.parametrize("receiveid", ["", CORP_ID])
@pytest.mark.parametrize("plaintext", ["", "a", "你好" * 50, "x" * 12])   # 12 + 20 + 0 = one whole 32-byte block
def test_round_trip_with_fixed_random(plaintext, receiveid):
    crypto = PlatformCrypto(TOKEN, AES_KEY, receiveid)
    once = crypto.encrypt(plaintext, random16=FIXED_RANDOM)
    assert once == crypto.encrypt(plaintext, random16=FIXED_RANDOM)          # deterministic given random16
    assert once != crypto.encrypt(plaintext)                                 # a fresh random prefix otherwise
    assert crypto.decrypt(once) == (plaintext, receiveid)


def test_full_block_gets_a_full_block_of_padding():
    crypto = PlatformCrypto(TOKEN, AES_KEY, "")
    assert len(base64.b64decode(crypto.encrypt("x" * 12, random16=FIXED_RANDOM))) == 64   # 32 data + 32 pad


@pytest.mark.parametrize("last_byte", [0, 33])   # PKCS#7 with 32-byte blocks allows 1..32 only
def test_decrypt_rejects_bad_padding(crypto, last_byte):
    encryptor = crypto._cipher().encryptor()
    raw = encryptor.update(bytes(31) + bytes([last_byte])) + encryptor.finalize()
    with pytest.raises(AssertionError, match="padding"):
        crypto.decrypt(base64.b64encode(raw).decode())


def test_platform_encrypt_opens_in_wechatpy():
    # the one cross-check against the library: it checks the platform side, not the bot against itself
    from wechatpy.enterprise.crypto import WeChatCrypto

    platform = PlatformCrypto(TOKEN, AES_KEY, CORP_ID)
    plaintext = messages.app_text("今天学习了防汛知识", corp_id=CORP_ID)
    query, body = platform.callback(plaintext, json_envelope=False)
    library = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    assert library.decrypt_message(body.decode("utf-8"), query["msg_signature"], query["timestamp"],
                                   query["nonce"]) == plaintext
    params = platform.verify_url_params("1288432023552776189")
    assert library.check_signature(params["msg_signature"], params["timestamp"], params["nonce"],
                                   params["echostr"]) == "1288432023552776189"


def test_wechatpy_reply_opens_on_the_platform():
    from wechatpy.enterprise.crypto import WeChatCrypto

    reply = "<xml><MsgType>text</MsgType><Text><Content>收到</Content></Text></xml>"
    envelope = WeChatCrypto(TOKEN, AES_KEY, "").encrypt_message(reply, "12345", "1700000000")
    assert PlatformCrypto(TOKEN, AES_KEY, "").open_reply(envelope.encode("utf-8"), json_envelope=False) == reply
    with pytest.raises(AssertionError, match="receiveid"):
        PlatformCrypto(TOKEN, AES_KEY, CORP_ID).open_reply(envelope.encode("utf-8"), json_envelope=False)


def test_open_reply_checks_signature_and_json_envelope():
    crypto = PlatformCrypto(TOKEN, AES_KEY, "")
    reply = json.dumps({"msgtype": "stream", "stream": {"id": "s1", "finish": True, "content": "好"}})
    encrypt = crypto.encrypt(reply)
    good = {"encrypt": encrypt, "msgsignature": crypto.sign("17", "n1", encrypt), "timestamp": "17", "nonce": "n1"}
    assert crypto.open_reply(json.dumps(good).encode(), json_envelope=True) == reply
    bad = good | {"msgsignature": "0" * 40}
    with pytest.raises(AssertionError, match="signature"):
        crypto.open_reply(json.dumps(bad).encode(), json_envelope=True)


def test_callback_envelopes():
    app = PlatformCrypto(TOKEN, AES_KEY, CORP_ID)
    query, body = app.callback(messages.app_text("hi", corp_id=CORP_ID, agent_id=1000002), json_envelope=False)
    root = ET.fromstring(body)
    assert [c.tag for c in root] == ["ToUserName", "Encrypt", "AgentID"]
    assert root.findtext("ToUserName") == CORP_ID and root.findtext("AgentID") == "1000002"
    assert app.sign(query["timestamp"], query["nonce"], root.findtext("Encrypt")) == query["msg_signature"]

    robot = PlatformCrypto(TOKEN, AES_KEY, "")
    _, body = robot.callback(messages.robot_text("打卡"), json_envelope=False)
    assert [c.tag for c in ET.fromstring(body)] == ["Encrypt"]
    _, body = robot.callback(messages.aibot_text("打卡"), json_envelope=True)
    assert list(json.loads(body)) == ["encrypt"]


# ---- the actor, against a toy bot that uses this crypto in the reverse direction ----

def _toy_bot():
    """Echoes texts in each channel's passive-reply format; 403 on a bad signature."""
    from flask import Flask, request

    app = Flask("toy")

    @app.route("/wecom/<channel>", methods=["GET", "POST"])
    def callback(channel):
        crypto = PlatformCrypto(TOKEN, AES_KEY, CORP_ID if channel == "app" else "")
        q = request.args
        if request.method == "GET":
            encrypt = q["echostr"]
        elif channel == "aibot":
            encrypt = request.get_json()["encrypt"]
        else:
            encrypt = ET.fromstring(request.get_data()).findtext("Encrypt")
        if crypto.sign(q["timestamp"], q["nonce"], encrypt) != q["msg_signature"]:
            return "", 403
        msg, _ = crypto.decrypt(encrypt)
        if request.method == "GET":
            return msg
        return _toy_reply(crypto, channel, msg)

    return app


def _toy_reply(crypto, channel, msg):
    if channel == "aibot":
        content = json.loads(msg)["text"]["content"]
        plain = json.dumps({"msgtype": "stream", "stream": {"id": "s1", "finish": True, "content": "回声:" + content}})
    elif channel == "robot":
        content = ET.fromstring(msg.encode()).findtext("Text/Content")
        plain = f"<xml><MsgType>markdown</MsgType><Markdown><Content>回声:{content}</Content></Markdown></xml>"
    else:
        root = ET.fromstring(msg.encode())
        plain = (f"<xml><ToUserName>{root.findtext('FromUserName')}</ToUserName>"
                 f"<FromUserName>{CORP_ID}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
                 f"<Content>回声:{root.findtext('Content')}</Content></xml>")
    return crypto.seal_reply(plain, json_envelope=channel == "aibot")


@pytest.fixture(params=["test_client", "http"])
def platform(request):
    from tests.platform.actor import WeComPlatform

    app = _toy_bot()
    if request.param == "test_client":
        yield WeComPlatform(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, client=app.test_client())
        return
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WeComPlatform(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID,
                            base_url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)


@pytest.mark.parametrize("channel", ["aibot", "robot", "app"])
def test_actor_verifies_and_says(platform, channel):
    response, echo = platform.verify(channel)
    assert response.status == 200 and response.body == echo.encode()
    reply = platform.say("打卡 今天学习了防汛知识", channel=channel)
    assert reply.status == 200
    expected = "回声:打卡 今天学习了防汛知识" if channel == "app" else "回声:@思政助手 打卡 今天学习了防汛知识"
    assert reply.text == expected


def test_actor_tampering_reaches_the_bot(platform):
    assert platform.send("robot", messages.robot_text("hi"), query_overrides={"msg_signature": "0" * 40}).status == 403
    reply = platform.open("robot", platform.send("robot", messages.robot_text("hi"),
                                                 query_overrides={"nonce": "other"}))
    assert reply.status == 403 and reply.plaintext is None
