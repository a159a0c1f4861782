"""Chinese word segmentation: jieba with the unit's domain words, loaded once per process
(in gunicorn's master before it forks, so workers share the dictionary's pages)."""
from __future__ import annotations

import logging
from pathlib import Path

import jieba

DOMAIN_WORDS = Path(__file__).with_name("domain_words.txt")
_loaded = False


def load() -> None:
    """Load the main dictionary and the domain words; later calls do nothing."""
    global _loaded
    if _loaded:
        return
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    jieba.load_userdict(str(DOMAIN_WORDS))
    _loaded = True


def words(text: str) -> list[str]:
    """The meaningful words of ``text``: jieba's segmentation without single characters and spaces."""
    load()
    return [w for w in jieba.lcut(text) if len(w.strip()) >= 2]
