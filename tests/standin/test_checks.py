"""Pure validation rules of the stand-in: message bodies, recipients, uploads, AMR frame walking."""
from __future__ import annotations

import base64
import hashlib

import pytest

from bot.standin import checks, codes, media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
AMR_FRAME = b"\x3c" + b"\x00" * 31       # mode 7 (12.2 kbit/s): 1 header byte + 31 payload bytes, 20 ms


def amr(frames: int) -> bytes:
    return b"#!AMR\n" + AMR_FRAME * frames


def no_media(media_id: str, msgtype: str) -> bool:
    return False


def known_media(media_id: str, msgtype: str) -> bool:
    return (media_id, msgtype) in {("m-voice", "voice"), ("m-image", "image")}


def code(problem):
    return None if problem is None else problem.code


def text(content: str, **extra) -> dict:
    return {"msgtype": "text", "text": {"content": content}, **extra}


# --- recipients and agentid ------------------------------------------------------------------

def test_split_ids_drops_blanks_and_duplicates():
    assert checks.split_ids("a| b||a|c") == ["a", "b", "c"]
    assert checks.split_ids(None) == []


def test_touser_limit_is_1000_ids():
    assert checks.check_recipients({"touser": "|".join(f"u{i}" for i in range(1000))}) is None
    too_many = {"touser": "|".join(f"u{i}" for i in range(1001))}
    assert code(checks.check_recipients(too_many)) == codes.INVALID_PARAMETER


def test_no_recipient_at_all_is_82001():
    assert code(checks.check_recipients({"touser": ""})) == codes.NO_RECIPIENTS


def test_party_and_tag_lists_are_capped_at_100():
    parties = {"toparty": "|".join(str(i) for i in range(101))}
    assert code(checks.check_recipients(parties)) == codes.TOO_MANY_PARTIES


def test_agentid_must_match():
    assert checks.check_agentid({"agentid": 1000002}, 1000002) is None
    assert checks.check_agentid({"agentid": "1000002"}, 1000002) is None
    assert code(checks.check_agentid({"agentid": 1}, 1000002)) == codes.INVALID_AGENTID
    assert code(checks.check_agentid({}, 1000002)) == codes.MISSING_AGENTID


# --- message bodies --------------------------------------------------------------------------

def test_text_limit_counts_utf8_bytes_not_characters():
    assert checks.check_app_message(text("字" * 682), no_media) is None            # 2046 bytes
    problem = checks.check_app_message(text("字" * 683), no_media)                  # 2049 bytes
    assert code(problem) == codes.CONTENT_TOO_LONG and "2049" in problem.detail


def test_empty_text_is_44004():
    assert code(checks.check_app_message(text(""), no_media)) == codes.EMPTY_CONTENT
    assert code(checks.check_app_message({"msgtype": "text"}, no_media)) == codes.EMPTY_CONTENT


def test_unknown_msgtype_is_40008():
    assert code(checks.check_app_message({"msgtype": "sticker"}, no_media)) == codes.INVALID_MSGTYPE
    # markdown_v2 is a webhook type only
    body = {"msgtype": "markdown_v2", "markdown_v2": {"content": "x"}}
    assert code(checks.check_app_message(body, no_media)) == codes.INVALID_MSGTYPE
    assert checks.check_webhook_message(body, no_media) is None


def test_markdown_limit_is_2048_for_apps_and_4096_for_webhooks():
    body = {"msgtype": "markdown", "markdown": {"content": "a" * 3000}}
    assert code(checks.check_app_message(body, no_media)) == codes.CONTENT_TOO_LONG
    assert checks.check_webhook_message(body, no_media) is None
    body["markdown"]["content"] = "a" * 4097
    assert code(checks.check_webhook_message(body, no_media)) == codes.CONTENT_TOO_LONG


def test_textcard_limits():
    card = {"title": "t", "description": "d", "url": "https://example.com", "btntxt": "详情"}
    assert checks.check_app_message({"msgtype": "textcard", "textcard": card}, no_media) is None
    long_button = {**card, "btntxt": "查看全部详情"}
    assert code(checks.check_app_message({"msgtype": "textcard", "textcard": long_button}, no_media)) \
        == codes.INVALID_PARAMETER
    long_title = {**card, "title": "标" * 43}                                         # 129 bytes
    assert code(checks.check_app_message({"msgtype": "textcard", "textcard": long_title}, no_media)) \
        == codes.CONTENT_TOO_LONG
    no_url = {k: v for k, v in card.items() if k != "url"}
    assert code(checks.check_app_message({"msgtype": "textcard", "textcard": no_url}, no_media)) \
        == codes.MISSING_URL


@pytest.mark.parametrize("count, expected", [(0, codes.TOO_MANY_ARTICLES), (1, None), (8, None),
                                             (9, codes.TOO_MANY_ARTICLES)])
def test_news_takes_one_to_eight_articles(count, expected):
    articles = [{"title": f"t{i}", "url": "https://example.com"} for i in range(count)]
    assert code(checks.check_webhook_message({"msgtype": "news", "news": {"articles": articles}},
                                             no_media)) == expected


def test_news_article_needs_title_and_url():
    body = {"msgtype": "news", "news": {"articles": [{"title": "t"}]}}
    assert code(checks.check_webhook_message(body, no_media)) == codes.MISSING_URL
    body = {"msgtype": "news", "news": {"articles": [{"url": "https://example.com"}]}}
    assert code(checks.check_webhook_message(body, no_media)) == codes.MISSING_TITLE


def test_media_messages_need_a_media_id_this_sender_may_use():
    assert checks.check_app_message({"msgtype": "voice", "voice": {"media_id": "m-voice"}}, known_media) is None
    assert code(checks.check_app_message({"msgtype": "voice", "voice": {}}, known_media)) \
        == codes.MISSING_MEDIA_ID
    assert code(checks.check_app_message({"msgtype": "voice", "voice": {"media_id": "nope"}}, known_media)) \
        == codes.INVALID_MEDIA_ID
    # an image's media_id cannot be sent as a voice message
    assert code(checks.check_app_message({"msgtype": "voice", "voice": {"media_id": "m-image"}}, known_media)) \
        == codes.INVALID_MEDIA_ID


def test_webhook_image_checks_base64_md5_and_format():
    good = {"base64": base64.b64encode(PNG).decode(), "md5": hashlib.md5(PNG).hexdigest()}
    assert checks.check_webhook_image(good) is None
    assert code(checks.check_webhook_image({**good, "md5": "0" * 32})) == codes.INVALID_PARAMETER
    gif = b"GIF89a" + b"\x00" * 20
    not_png = {"base64": base64.b64encode(gif).decode(), "md5": hashlib.md5(gif).hexdigest()}
    assert code(checks.check_webhook_image(not_png)) == codes.INVALID_MEDIA_TYPE


def test_template_card_types_differ_between_app_and_webhook():
    card = {"msgtype": "template_card",
            "template_card": {"card_type": "button_interaction", "task_id": "t1", "card_action": {"type": 1}}}
    assert checks.check_app_message(card, no_media) is None
    assert code(checks.check_webhook_message(card, no_media)) == codes.INVALID_PARAMETER


# --- uploads ---------------------------------------------------------------------------------

def test_amr_duration_walks_frames():
    assert media.amr_duration_ms(amr(50)) == 1000
    assert media.amr_duration_ms(b"#!AMR\n" + b"\x7c") == 20            # mode 15 NO_DATA is one byte
    assert media.amr_duration_ms(amr(3)[:-1]) is None                    # last frame cut short
    assert media.amr_duration_ms(b"RIFF0000WAVE") is None


def test_voice_upload_rules():
    assert media.check_upload("voice", amr(3000)) is None                # exactly 60 s
    assert media.check_upload("voice", amr(3001)).code == codes.VOICE_TOO_LONG
    assert media.check_upload("voice", b"RIFF" + b"\x00" * 100).code == codes.INVALID_MEDIA_TYPE
    assert media.check_upload("voice", b"#!AM").code == codes.EMPTY_MEDIA
    big = b"#!AMR\n" + b"\x00" * (2 * 1024 * 1024)
    assert media.check_upload("voice", big).code == codes.MEDIA_TOO_BIG


def test_image_and_file_upload_rules():
    assert media.check_upload("image", PNG) is None
    assert media.check_upload("image", b"GIF89a" + b"\x00" * 10).code == codes.INVALID_MEDIA_TYPE
    assert media.check_upload("file", b"hello world") is None
    assert media.check_upload("file", b"12345").code == codes.EMPTY_MEDIA
