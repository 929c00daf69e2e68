"""A real browser (Debian's chromium, driven by Playwright) against a real engine and worker.

Nothing is downloaded: Playwright drives the chromium found on PATH (``apt-get install -y
chromium``; .ci/run installs it). Without it these tests are skipped on a developer's machine and
fail in CI (``CI=true``). Screenshots go to ``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from render_sdk.engine.embedded import LocalEngine

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    message = "chromium is not installed (apt-get install -y chromium): the browser tests need it"
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'")
    # Module scope: Playwright's sync API keeps an event loop in this thread while it runs, which
    # the asyncio tests of other modules must not find.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    with LocalEngine("inspector_app:app", cwd=APPS, max_concurrency=32) as served:
        yield served


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.dialogs = dialogs
    opened.errors = errors
    try:
        yield opened
    finally:
        context.close()
    assert dialogs == [], f"a script ran a dialog: {dialogs}"
    assert errors == [], f"the page's scripts failed: {errors}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
