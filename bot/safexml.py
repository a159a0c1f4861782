"""Hardened XML parsing for callbacks: no DOCTYPE, no entities, no external references."""
from __future__ import annotations

from xml.etree.ElementTree import Element
from xml.etree.ElementTree import fromstring as expat_fromstring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

# WeCom's documents open with their root element. A DOCTYPE may only come before the root, so such
# a document cannot declare an entity or an external reference, and without an XML declaration it
# is UTF-8: the C parser reads it safely as it is. Anything else goes through defusedxml's checks.
_ROOT_FIRST = b"<xml>"


class BadXml(ValueError):
    """The XML is malformed or uses a forbidden construct."""


def parse(data: bytes) -> Element:
    """Parse XML, refusing any DOCTYPE (which also rules out entity expansion)."""
    try:
        if data.startswith(_ROOT_FIRST):
            return expat_fromstring(data)
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:   # defusedxml's ParseError is the C parser's
        raise BadXml(str(exc)) from None


def text_of(root: Element, path: str, default: str = "") -> str:
    """The stripped text at ``path`` (e.g. ``From/UserId``), or ``default``."""
    node = root.find(path)
    return (node.text or "").strip() if node is not None and node.text is not None else default
