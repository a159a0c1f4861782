"""Hardened XML parsing for callbacks: no DOCTYPE, no entities, no external references."""
from __future__ import annotations

from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring


class BadXml(ValueError):
    """The XML is malformed or uses a forbidden construct."""


def parse(data: bytes | str) -> Element:
    """Parse XML, refusing any DOCTYPE (which also rules out entity expansion)."""
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BadXml(str(exc)) from None


def text_of(root: Element, path: str, default: str = "") -> str:
    """The stripped text at ``path`` (e.g. ``From/UserId``), or ``default``."""
    node = root.find(path)
    return (node.text or "").strip() if node is not None and node.text is not None else default
