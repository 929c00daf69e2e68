"""UI: how soon a run started by the client shows on the run inspector's ``/``, in a real browser.

Debian's chromium, driven by Playwright (as tests/browser does; nothing is downloaded), keeps the
runs page open on the engine, untouched. The page itself stamps each run's row the moment it
enters the document (a ``MutationObserver``, wall clock in milliseconds); the bench process notes
the wall clock just before each ``start_task`` of the sync client. The delay is the difference:
the start's round trip, the engine's state-change stream (``/ui/changes``: changes that come
together go out together, at most four times a second), the page's coalesced re-fetch (at most
every 300 ms) and the swap. Starts are spaced by a random 0.4-1.0 s, so that they fall anywhere
in those windows rather than in step with them.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from typing import Any

from bench._procs import NotMeasured
from bench._results import Result
from bench._stats import latency_summary

# The flags tests/browser/conftest.py launches chromium with.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_S = 30.0  # for one row to show before the sample counts as not measured

# Stamps every run id in the runs table when it first appears (epoch milliseconds).
_OBSERVE = """
() => {
  window.benchSeen = {};
  const stamp = () => {
    const now = performance.timeOrigin + performance.now();
    for (const cell of document.querySelectorAll("#run-rows td.mono")) {
      const id = cell.textContent.trim();
      if (!(id in window.benchSeen)) window.benchSeen[id] = now;
    }
  };
  stamp();
  new MutationObserver(stamp).observe(document.body, { childList: true, subtree: true });
}
"""


def chromium() -> str:
    """The chromium to drive; NotMeasured when there is none."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found is None:
        raise NotMeasured("chromium is not installed (apt-get install -y chromium)")
    return found


def ui_latency(base_url: str, samples: int, seed: int = 14) -> Result:
    """Start ``samples`` no-op runs one at a time with the sync client while chromium shows
    ``/``; the delay from each start to its row on the page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise NotMeasured("the playwright package is missing (pip install playwright)") from exc
    from render_sdk import Render

    pace = random.Random(seed)
    delays: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base_url + "/")
            page.wait_for_function(
                "document.getElementById('live')?.textContent === 'live'", timeout=WAIT_S * 1000
            )
            page.evaluate(_OBSERVE)
            with Render(base_url=base_url) as render:
                render.workflows.run_task("noop", [])  # warm: a worker is up, the page is live
                time.sleep(1.0)
                for _ in range(samples):
                    time.sleep(pace.uniform(0.4, 1.0))
                    started = time.time() * 1000
                    run = render.workflows.start_task("noop", [])
                    try:
                        page.wait_for_function(
                            "(id) => id in window.benchSeen", arg=run.id, timeout=WAIT_S * 1000
                        )
                    except Exception as exc:  # Playwright's TimeoutError
                        raise NotMeasured(
                            f"run {run.id} did not show on / within {WAIT_S:.0f} s"
                        ) from exc
                    seen: Any = page.evaluate("(id) => window.benchSeen[id]", run.id)
                    delays.append((float(seen) - started) / 1000)
            if page.evaluate("performance.getEntriesByType('navigation').length") != 1:
                raise NotMeasured("the page reloaded during the measurement")
        finally:
            browser.close()
    summary = latency_summary(delays)
    return Result(
        "UI",
        "fast",
        summary,
        note=f"{samples} no-op runs started one at a time by the sync client, 0.4-1.0 s apart; "
        "delay from just before start_task to the run's row entering the open / page in "
        "chromium (no reload)",
        samples_ms=[d * 1000 for d in delays],
    )
