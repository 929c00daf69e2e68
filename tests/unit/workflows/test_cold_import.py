"""Importing the task API loads no HTTP client, attrs model, generated code or server library."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "httpx",
    "httpcore",
    "attr",
    "attrs",
    "dateutil",
    "render_api",
    "starlette",
    "uvicorn",
    "h11",
    "sse_starlette",
    "anyio",
    "asyncpg",
    "render_sdk.client",
    "render_sdk.engine",
)

SCRIPT = """
import json, sys
import render_sdk.workflows
from render_sdk import Workflows, Retry
app = Workflows()
@app.task(retry=Retry(1, 10))
def square(x: int) -> int:
    return x * x
assert square(3) == 9
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(script: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    modules: list[str] = json.loads(out)
    return modules


def test_importing_and_defining_tasks_stays_light() -> None:
    modules = _loaded(SCRIPT)
    heavy = [
        m for m in modules if m in FORBIDDEN or m.startswith(tuple(f + "." for f in FORBIDDEN))
    ]
    assert heavy == []
    assert "render_sdk.workflows" in modules  # the check itself ran the import
    # The worker's socket transport is loaded only when app.start() runs.
    assert "http.client" not in modules
    assert "asyncio" not in modules


def test_the_worker_itself_stays_light() -> None:
    script = "import render_sdk.workflows._worker, render_sdk.workflows.cli\n" + SCRIPT
    modules = _loaded(script)
    heavy = [
        m for m in modules if m in FORBIDDEN or m.startswith(tuple(f + "." for f in FORBIDDEN))
    ]
    assert heavy == []
    assert "http.client" in modules
    # asyncio and concurrent.futures load only when an async task runs.
    assert "asyncio" not in modules
    assert "concurrent.futures" not in modules
