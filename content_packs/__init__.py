"""Content packs: folders of YAML (data only), checked once at start.

A pack is a folder with ``pack.yaml`` (id, version, title, kind, topics, audience, description) and the
files of its kind (kind ``quiz``: ``questions.yaml``). Folders without ``pack.yaml`` (``demo_unit``) are
not packs. Anything stored or scheduled names a pack by ``id`` and ``version`` (``Pack.ref``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from flask import Flask, current_app

from content_packs.loader import PackError, load_pack, scan
from content_packs.schema import KINDS, QUESTION_TYPES, Manifest, Pack, Question

__all__ = ["KINDS", "PACKS_ROOT", "QUESTION_TYPES", "Manifest", "Pack", "PackError", "Question", "check_all",
           "get", "get_packs", "init_app", "load_all", "load_pack", "packs_root"]

PACKS_ROOT = Path(__file__).resolve().parent
EXTENSION = "szzs.packs"
COHORTS_EXTENSION = "szzs.cohorts"      # set by bot.cohorts.init_app; used to check each pack's audience


def load_all(root: str | Path = PACKS_ROOT, *, cohorts: Iterable[str] | None = None) -> dict[str, Pack]:
    """Load every pack folder under ``root``, keyed by pack id.

    Args:
        root: the folder holding pack folders; folders without ``pack.yaml`` are skipped.
        cohorts: known cohort names; when given, every ``audience`` entry must be one of them.

    Raises:
        PackError: any pack is invalid; ``errors`` lists every problem of every pack.
    """
    packs, errors = scan(root, cohorts=cohorts)
    if errors:
        raise PackError(errors)
    return packs


def check_all(root: str | Path = PACKS_ROOT, *, cohorts: Iterable[str] | None = None) -> list[str]:
    """Every problem of every pack under ``root`` as ``file:line: field: message``; empty when all are valid."""
    return scan(root, cohorts=cohorts)[1]


def packs_root(app: Flask | None = None) -> Path:
    """The app's pack folder: setting ``CONTENT_PACKS_DIR``, else this package's folder."""
    return root_of((app or current_app).config)


def root_of(settings: Mapping) -> Path:
    """The pack folder these settings name (``packs_root`` for settings not yet in an app)."""
    return Path(settings.get("CONTENT_PACKS_DIR") or PACKS_ROOT)


def init_app(app: Flask) -> None:
    """Load every pack once at start; an invalid pack stops the start.

    Audiences are checked against the cohort rules when ``bot.cohorts.init_app`` ran first.

    Raises:
        PackError: with every problem of every pack (``str()`` lists them, one per line).
    """
    rules = app.extensions.get(COHORTS_EXTENSION)
    cohorts = getattr(rules, "names", None)
    app.extensions[EXTENSION] = load_all(packs_root(app), cohorts=cohorts)


def get_packs(app: Flask | None = None) -> dict[str, Pack]:
    """The packs loaded at start, keyed by id.

    Raises:
        RuntimeError: ``init_app`` was not called for this app.
    """
    app = app or current_app
    try:
        return app.extensions[EXTENSION]
    except KeyError:
        raise RuntimeError("content packs are not loaded: call content_packs.init_app(app) in create_app") from None


def get(pack_id: str, *, version: int | None = None, app: Flask | None = None) -> Pack:
    """One loaded pack; with ``version``, only if that is the version loaded.

    Raises:
        KeyError: no pack has this id, or it has another version now (it was edited since).
    """
    pack = get_packs(app).get(pack_id)
    if pack is None:
        raise KeyError(f"没有内容包「{pack_id}」")
    if version is not None and pack.version != version:
        raise KeyError(f"内容包「{pack_id}」现在是第 {pack.version} 版，不是第 {version} 版")
    return pack
