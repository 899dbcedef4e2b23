"""Headless Debian chromium driven by Playwright for Python (its own browser download is not reachable
here: ``executable_path`` points it at the system's chromium). Tests that need it skip with the reason
where either is missing."""

import shutil

import pytest


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def chromium():
    """A launched browser for one test module. Not for the session: Playwright's sync API keeps an
    event loop running in this thread while it is open, and later tests call asyncio.run()."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("needs chromium (Debian: apt install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1100, "height": 720})
    page = context.new_page()
    yield page
    context.close()
