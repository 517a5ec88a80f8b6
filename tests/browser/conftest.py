"""Playwright for Python driving Debian's Chromium (never a downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support import artifacts

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: run `make test`, which installs it")
    return path


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls
    # happen in their own thread, but fixtures here touch the ORM beside that loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(browser, request):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def add_axe(page) -> None:
    """Load axe-core into the page. Through DevTools' evaluate, which the page's
    Content-Security-Policy does not govern: a <script> holding axe's text (add_script_tag)
    is refused by script-src 'self'."""
    page.evaluate(AXE.read_text())


def screenshot(page, name: str) -> None:
    page.screenshot(
        path=artifacts("screenshots", f"{name}-{page.viewport_name}.png"), full_page=True
    )
