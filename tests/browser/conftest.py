"""Browser tests: the whole stack (`python -m bot run`) on loopback, driven in Debian's headless Chromium.

One stack serves every test in this folder (starting it takes seconds); each test gets a fresh
browser profile. A failing test leaves a screenshot in the pytest temp folder and says where.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.test_stack import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BOT_REPLY = "#{log} .message.reply"


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("browser-stack"))
    running.wait_ready()
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="package")
def playwright_driver():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `python3 dev.py test` installs Debian's chromium "
                    "(or run `apt-get install -y chromium`)")
    with sync_playwright() as driver:
        yield driver


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(playwright_driver, tmp_path, request) -> Page:
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        accept_downloads=True, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / f"{request.node.name}.png"
        opened.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failing page: {shot}")
    context.close()


class Simulator:
    """A newcomer on the simulator page: picks members, types in the group or the one-to-one chat."""

    def __init__(self, page: Page, base: str):
        self.page = page
        self.base = base

    def open(self) -> "Simulator":
        self.page.goto(f"{self.base}/simulator/")
        expect(self.page.locator(".member").first).to_be_visible()
        return self

    def pick(self, userid: str) -> None:
        self.page.locator(f'.member[data-userid="{userid}"]').click()
        expect(self.page.locator(f'.member.selected[data-userid="{userid}"]')).to_be_visible()

    def say(self, where: str, text: str, *, expect_reply: str | re.Pattern, timeout: float = 20_000) -> str:
        """Type ``text`` in the group (``group``) or one-to-one (``dm``) chat; return the bot's new reply."""
        replies = self.page.locator(BOT_REPLY.format(log=f"{where}-log"))
        before = replies.count()
        self.page.fill(f"#{where}-input", text)
        self.page.click(f"#{where}-send")
        expect(replies).to_have_count(before + 1, timeout=timeout)
        reply = replies.nth(before)
        expect(reply).to_contain_text(expect_reply, timeout=timeout)
        return reply.inner_text()


@pytest.fixture
def simulator(page, stack) -> Simulator:
    return Simulator(page, stack.base).open()
