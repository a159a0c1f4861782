"""The callback XML parser: WeCom's root-first documents parse; nothing can smuggle in a DTD."""
import pytest

from bot import safexml

ROOT_FIRST_WITH_DTD = [
    b'<xml><!DOCTYPE x [<!ENTITY a "b">]><Encrypt>&a;</Encrypt></xml>',   # a DOCTYPE after the root
    b"<xml><Encrypt>&lol;</Encrypt></xml>",                               # an entity never declared
    b'<xml><Encrypt>x</Encrypt></xml><!DOCTYPE x [<!ENTITY a "b">]>',     # a DOCTYPE after the end
]
DTD_FIRST = [
    b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
    # UTF-16 hides the DOCTYPE from a byte search; it must still be refused
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><xml><E>&a;</E></xml>'.encode("utf-16"),
]


@pytest.mark.parametrize("data", ROOT_FIRST_WITH_DTD + DTD_FIRST)
def test_a_dtd_or_an_entity_is_refused(data):
    with pytest.raises(safexml.BadXml):
        safexml.parse(data)


def test_a_wecom_message_parses_even_when_the_text_mentions_a_doctype():
    root = safexml.parse("<xml><MsgId>m1</MsgId><From><UserId>u1</UserId></From>"
                         "<Text><Content><![CDATA[打卡 <!DOCTYPE x> &amp; 心得]]></Content></Text></xml>".encode())
    assert safexml.text_of(root, "From/UserId") == "u1"
    assert safexml.text_of(root, "Text/Content") == "打卡 <!DOCTYPE x> &amp; 心得"


def test_predefined_entities_and_a_declaration_still_parse():
    assert safexml.text_of(safexml.parse(b"<xml><A>a &lt; b</A></xml>"), "A") == "a < b"
    assert safexml.text_of(safexml.parse(b'<?xml version="1.0"?><xml><A>ok</A></xml>'), "A") == "ok"


def test_malformed_xml_is_refused():
    for data in (b"<xml><A>unclosed</xml>", b"", b"not xml"):
        with pytest.raises(safexml.BadXml):
            safexml.parse(data)
