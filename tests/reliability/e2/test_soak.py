"""The long versions of the E2 items (``-m soak``): many rounds, figures for the docs.

With ``E2_FIGURES=path``, each test adds its counts to that JSON file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from render_sdk import Render
from render_sdk.client.types import ListTaskRunsParams
from tests.e2e._engine import EngineProcess
from tests.e2e._helpers import SUCCESS
from tests.e2e._helpers import status_of as status
from tests.reliability.e2.conftest import misbehaving_engine
from tests.reliability.e2.test_callback_bad_input import run

pytestmark = pytest.mark.soak


def record(name: str, figures: dict[str, Any]) -> None:
    target = os.environ.get("E2_FIGURES")
    if not target:
        return
    path = Path(target)
    known = json.loads(path.read_text()) if path.exists() else {}
    known[name] = figures
    path.write_text(json.dumps(known, indent=1) + "\n")


@pytest.fixture(autouse=True)
def _no_local_override(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV", "RENDER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def callback_engine(tmp_path: Path, reports: Path) -> Iterator[EngineProcess]:
    proc = misbehaving_engine(tmp_path, reports)
    yield proc
    proc.stop()


def test_callback_bad_input_many_rounds(callback_engine: EngineProcess) -> None:
    """Misbehaving workers, four at a time, 40 rounds of each scenario; every run still ends."""
    rounds = 40
    scenarios = ["malformed", "twice", "ok"]
    with httpx.Client(base_url=callback_engine.base_url + "/v1", timeout=120) as api:

        def one(task: str) -> str:
            return str(run(api, task, task)["status"])

        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(one, [s for _ in range(rounds) for s in scenarios]))
        elapsed = time.monotonic() - started
        assert results == ["completed"] * len(results)
        assert api.get("/tasks").status_code == 200
    output = callback_engine.output()
    refusals = output.count("WARNING render_sdk.engine.callbacks")
    assert "Traceback" not in output
    record(
        "callback_bad_input",
        {
            "runs": len(results),
            "completed": results.count("completed"),
            "refusals_logged": refusals,
            "seconds": round(elapsed, 1),
        },
    )


def _tree_running(render: Render, count: int) -> bool:
    page = render.workflows.list_task_runs(ListTaskRunsParams(limit=20))
    return sum(1 for r in page if status(r) == "running") >= count


def test_run_task_across_many_engine_kills(own_engine: EngineProcess) -> None:
    """Ten SIGKILLs, each with a run_task (root + 2 subtasks) in flight; all return right."""
    own_engine.start()
    right, wrong, errors = 0, 0, []
    with Render(base_url=own_engine.base_url) as render:
        for _ in range(10):
            outcome: dict[str, Any] = {}

            def wait(outcome: dict[str, Any] = outcome) -> None:
                try:
                    outcome["tree"] = render.workflows.run_task("sleepy_tree", [2, 0.8])
                except BaseException as exc:
                    outcome["error"] = exc

            thread = threading.Thread(target=wait)
            thread.start()
            pause = threading.Event()
            while not _tree_running(render, 3):
                pause.wait(0.02)
            own_engine.kill()
            own_engine.start()
            thread.join(120)
            if "error" in outcome:
                errors.append(repr(outcome["error"]))
            elif status(outcome["tree"]) in SUCCESS and outcome["tree"].result == [0.8, 0.8]:
                right += 1
            else:
                wrong += 1
    record("run_task_across_kills", {"kills": 10, "right": right, "wrong": wrong, "errors": errors})
    assert (right, wrong, errors) == (10, 0, [])


def test_outage_the_client_rides_out(own_engine: EngineProcess) -> None:
    """How long the engine may stay down while a client waits on a run's event stream.

    After a healthy stream drops, the client waits the server's ``retry: 2000``, then reconnects
    for its reconnect patience (30 s by default). Outages of up to 10 s (plus the engine's own
    start) must be ridden out; 40 s may not be.
    """
    own_engine.start()
    survived: dict[str, bool] = {}
    with Render(base_url=own_engine.base_url) as render:
        for outage in (0.5, 2.0, 5.0, 10.0, 40.0):
            outcome: dict[str, Any] = {}
            run_id = render.workflows.start_task("sleep_for", [0.5]).id

            def wait(outcome: dict[str, Any] = outcome, run_id: str = run_id) -> None:
                try:
                    outcome["details"] = list(render.workflows.task_run_events([run_id]))
                except BaseException as exc:
                    outcome["error"] = exc

            thread = threading.Thread(target=wait)
            thread.start()
            time.sleep(0.2)  # let the stream connect
            own_engine.kill()
            time.sleep(outage)  # the outage under test
            own_engine.start()
            thread.join(120)
            survived[f"{outage:g}s"] = "details" in outcome
    record("outage_ridden_out", survived)
    assert all(survived[f"{outage:g}s"] for outage in (0.5, 2.0, 5.0, 10.0)), survived
