"""Nothing accepted is lost when the engine dies: pending and running runs finish after restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e._engine import EngineProcess
from tests.e2e._helpers import SUCCESS


def start(base_url: str, task: str, args: list[object]) -> str:
    answer = httpx.post(f"{base_url}/v1/task-runs", json={"task": task, "input": args})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def wait_terminal(base_url: str, run_ids: list[str], timeout: float = 60.0) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict] = {}
    while time.monotonic() < deadline and len(done) < len(run_ids):
        for run_id in run_ids:
            if run_id in done:
                continue
            body = httpx.get(f"{base_url}/v1/task-runs/{run_id}").json()
            if body["status"] in ("completed", "succeeded", "failed", "canceled"):
                done[run_id] = body
        time.sleep(0.1)
    return done


def wait_status(base_url: str, run_ids: list[str], status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [httpx.get(f"{base_url}/v1/task-runs/{r}").json()["status"] for r in run_ids]
        if all(s == status for s in states):
            return
        time.sleep(0.02)
    raise AssertionError(f"runs did not all reach {status}: {states}")


def test_sigkill_with_runs_pending_and_running(fresh_engine: EngineProcess, tmp_path: Path) -> None:
    fresh_engine.extra_args = ["--max-concurrency", "2"]
    fresh_engine.start()
    gate = str(tmp_path / "gate")
    running = [start(fresh_engine.base_url, "wait_for_file", [gate]) for _ in range(2)]
    wait_status(fresh_engine.base_url, running, "running")
    # Both slots are taken until the gate opens: these stay pending.
    pending = [start(fresh_engine.base_url, "square", [i]) for i in range(20)]
    assert httpx.get(f"{fresh_engine.base_url}/v1/task-runs/{pending[-1]}").json()["status"] == (
        "pending"
    )
    fresh_engine.kill()

    fresh_engine.start()
    Path(gate).touch()
    done = wait_terminal(fresh_engine.base_url, running + pending)
    assert set(done) == set(running + pending), "a run accepted before the crash was lost"
    for run_id in running:
        body = done[run_id]
        assert body["status"] in SUCCESS, body
        assert body["results"] == [gate]
        # The interrupted attempt is kept, and did not spend the retry budget.
        assert body["retries"] == 0
        assert len(body["attempts"]) >= 2
        assert "interrupted" in (body["attempts"][0].get("error") or "")
    for i, run_id in enumerate(pending):
        assert done[run_id]["results"] == [i * i]


def test_clean_stop_keeps_history(fresh_engine: EngineProcess) -> None:
    fresh_engine.start()
    run_id = start(fresh_engine.base_url, "square", [11])
    assert wait_terminal(fresh_engine.base_url, [run_id])[run_id]["results"] == [121]
    assert fresh_engine.stop() == 0
    fresh_engine.start()
    body = httpx.get(f"{fresh_engine.base_url}/v1/task-runs/{run_id}").json()
    assert body["results"] == [121]
    assert body["input"] == [11]
