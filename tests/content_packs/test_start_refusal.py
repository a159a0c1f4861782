"""An invalid pack stops the start: `python -m bot run` with one line and exit code 2, before any server starts;
`flask --app bot packs check` (whose app cannot start) with the readable errors and exit code 1."""
from __future__ import annotations

import runpy
import signal
import socket

import fakeredis
import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from bot import create_app, runner
from content_packs import PackError
from tests.conftest import make_settings

from .test_pack_errors import GOOD_QUESTION, line_of, make_pack, where


@pytest.fixture
def invalid_packs(tmp_path):
    """A pack folder whose only pack answers with a letter that is not one of its options; and its one error line."""
    root = tmp_path / "packs"
    folder = make_pack(root, "quiz_bad", GOOD_QUESTION.replace("answer: A", "answer: E"))
    error = (f"{where(folder, 'questions.yaml')}:{line_of(folder, 'questions.yaml', 'answer:')}: "
             "questions[0].answer: 答案中的「E」不是本题的选项（可选：A、B）")
    return root, error


@pytest.fixture
def signal_handlers_kept():
    """`bot run` installs its own Ctrl-C handler; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _must_not_start(*_args, **_kwargs):
    raise AssertionError("something was started although a pack is invalid")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bot_run_refuses_an_invalid_pack_before_starting_anything(tmp_path, invalid_packs, monkeypatch, capsys,
                                                                  signal_handlers_kept):
    root, error = invalid_packs
    instance = tmp_path / "instance"
    for name, value in (("CONTENT_PACKS_DIR", str(root)), ("INSTANCE_PATH", str(instance)), ("PORT", str(free_port()))):
        monkeypatch.setenv(name, value)

    monkeypatch.setattr(runner, "_prepare", _must_not_start)            # Valkey, migrations, demo unit
    monkeypatch.setattr(runner, "_spawn", _must_not_start)              # web, worker, cron
    monkeypatch.setattr("sys.argv", ["python -m bot", "run"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("bot", run_name="__main__")                 # exactly `python -m bot run`
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == ["内容包有误 / invalid content packs:", error]
    assert not (instance / "run.json").exists()                        # the next start is not blocked


def app_factory(tmp_path, root):
    return lambda: create_app(make_settings(tmp_path, CONTENT_PACKS_DIR=str(root)), redis=fakeredis.FakeRedis())


def test_flask_packs_check_lists_the_errors_when_the_app_cannot_start(tmp_path, invalid_packs):
    root, error = invalid_packs
    # what `flask --app bot` does: FlaskGroup loads the app from its factory before it can find `packs`
    result = CliRunner().invoke(FlaskGroup(create_app=app_factory(tmp_path, root)), ["packs", "check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [error]
    assert result.stderr.strip() == "共 1 处错误"
    assert "Traceback" not in result.output


def test_outside_the_flask_command_an_invalid_pack_still_raises(tmp_path, invalid_packs):
    root, error = invalid_packs
    with pytest.raises(PackError) as caught:                          # bot/wsgi.py and the workers catch this
        app_factory(tmp_path, root)()
    assert caught.value.errors == [error]


def test_bot_run_checks_audiences_against_the_cohort_rules_like_the_app(tmp_path, monkeypatch, capsys,
                                                                        signal_handlers_kept):
    import shutil

    from content_packs import PACKS_ROOT

    root = tmp_path / "packs"
    shutil.copytree(PACKS_ROOT / "push_young_water_workers", root / "push_young_water_workers")
    manifest = root / "push_young_water_workers" / "pack.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("audience: [青年]", "audience: [少年]"), "utf-8")
    for name, value in (("CONTENT_PACKS_DIR", str(root)), ("INSTANCE_PATH", str(tmp_path / "instance")),
                        ("PORT", str(free_port()))):
        monkeypatch.setenv(name, value)

    monkeypatch.setattr(runner, "_prepare", _must_not_start)
    monkeypatch.setattr("sys.argv", ["python -m bot", "run"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("bot", run_name="__main__")
    assert exited.value.code == 2
    assert "少年" in capsys.readouterr().err
