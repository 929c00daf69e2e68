"""Worker faults: a task that exits, is killed, segfaults, spins, hogs memory or floods stdout.

Each fault becomes a failed attempt with an error naming it, the task's retry policy applies (one
retry here, so two attempts), and well-behaved runs started at the same time finish correctly.
Both execution paths: the reused serve-mode processes (``module:app``) and one process per run
(``-- START COMMAND``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e._engine import EngineProcess
from tests.reliability.e1._rest import (
    SUCCESS,
    engine_process,
    get_run,
    start_run,
    wait_terminal,
)

# task -> what every attempt's error must say
FAULTS = {
    "exit_3": "worker process ended without a callback (exit status 3)",
    "sigkill_self": "worker process ended without a callback (signal SIGKILL)",
    "segfault": "worker process ended without a callback (signal SIGSEGV)",
    "spin_forever": "timed out after 1s",
    "hog_memory": "MemoryError",
}
STDERR_LINE = {
    "exit_3": "exiting with status 3",
    "sigkill_self": "killing myself",
    "segfault": "reading address 0",
}
TARGETS = {
    "fast": ["faults_app:app"],
    "process": ["--", sys.executable, "faults_app.py"],
}
FLOOD_LINES = 100_000  # 10 MB of 100-byte lines, then one line of 8 MiB
LOG_LIMIT = 1024 * 1024


@pytest.fixture(scope="module", params=sorted(TARGETS))
def faults_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineProcess]:
    tmp = tmp_path_factory.mktemp(f"faults-{request.param}")
    engine = engine_process(tmp, TARGETS[request.param], "--max-concurrency", "4")
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def client(faults_engine: EngineProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=faults_engine.base_url, timeout=30.0) as c:
        yield c


def test_each_fault_fails_its_attempts_and_spares_other_runs(
    faults_engine: EngineProcess, client: httpx.Client
) -> None:
    faulty = {task: start_run(client, task, []) for task in FAULTS}
    healthy = {start_run(client, "square", [i]): i for i in range(16)}

    done = wait_terminal(faults_engine.base_url, [*faulty.values(), *healthy], timeout=90)

    assert set(done) == {*faulty.values(), *healthy}
    for task, run_id in faulty.items():
        run = done[run_id]
        assert run["status"] == "failed", (task, run)
        assert run["retries"] == 1, (task, run)
        assert len(run["attempts"]) == 2, (task, run)
        for attempt in run["attempts"]:
            assert attempt["status"] == "failed", (task, attempt)
            assert FAULTS[task] in (attempt.get("error") or ""), (task, attempt)
        assert FAULTS[task] in run["error"], (task, run)
        if task in STDERR_LINE:  # a crash report quotes the last lines of stderr
            assert STDERR_LINE[task] in run["error"], (task, run)
    for run_id, i in healthy.items():
        assert done[run_id]["status"] in SUCCESS, done[run_id]
        assert done[run_id]["results"] == [i * i]
    assert faults_engine.proc is not None and faults_engine.proc.poll() is None
    after = start_run(client, "square", [12])
    assert wait_terminal(faults_engine.base_url, [after], timeout=30)[after]["results"] == [144]


def test_memory_is_limited_by_the_plan(faults_engine: EngineProcess, client: httpx.Client) -> None:
    """The starter plan (512 MB) stops the hog; 200 MiB fits; the next starter run is fine."""
    hog = start_run(client, "hog_memory", [])
    modest = start_run(client, "modest_memory", [])
    done = wait_terminal(faults_engine.base_url, [hog, modest], timeout=60)
    assert done[hog]["status"] == "failed"
    assert "allocated" not in (done[hog]["error"] or ""), done[hog]
    limit = "MemoryError (the task's plan 'starter' limits its worker process to 512 MB"
    assert limit in done[hog]["error"], done[hog]
    assert done[modest]["status"] in SUCCESS, done[modest]
    assert done[modest]["results"] == [200 * 1024 * 1024]
    runs = [start_run(client, "starter_after_hog", []) for _ in range(6)]
    for run in wait_terminal(faults_engine.base_url, runs, timeout=30).values():
        assert run["results"] == [7]


def _logs(client: httpx.Client, run_id: str) -> tuple[list[dict[str, Any]], bool]:
    lines: list[dict[str, Any]] = []
    truncated = False
    cursor: str | None = None
    while True:
        params = {"taskRunId": run_id, "limit": "100", **({"cursor": cursor} if cursor else {})}
        answer = client.get("/v1/logs", params=params)
        assert answer.status_code == 200, answer.text
        truncated = truncated or answer.headers.get("Render-Logs-Truncated") == "true"
        page = answer.json()
        lines.extend(item["log"] for item in page)
        if len(page) < 100:
            return lines, truncated
        cursor = page[-1]["cursor"]


def test_stdout_flood_is_bounded_and_says_it_truncated(
    faults_engine: EngineProcess, client: httpx.Client
) -> None:
    flood = start_run(client, "flood_stdout", [FLOOD_LINES])
    healthy = {start_run(client, "square", [i]): i for i in range(8)}
    done = wait_terminal(faults_engine.base_url, [flood, *healthy], timeout=90)
    assert done[flood]["status"] in SUCCESS, done[flood]
    assert done[flood]["results"] == [FLOOD_LINES]
    for run_id, i in healthy.items():
        assert done[run_id]["results"] == [i * i]

    lines, truncated = _logs(client, flood)
    assert truncated
    assert lines[-1]["message"] == f"[output truncated: more than {LOG_LIMIT} bytes]"
    stored = sum(len(line["message"]) + 1 for line in lines[:-1])
    assert stored <= LOG_LIMIT
    assert len(lines) < FLOOD_LINES // 5
    # The engine's console echoes what is stored, not the flood.
    console = faults_engine.output()
    assert f"[output truncated: more than {LOG_LIMIT} bytes]" in console
    assert console.count("x" * 99) <= LOG_LIMIT // 100
    # The engine still answers and runs after the flood.
    assert get_run(client, flood)["id"] == flood
