"""The runner end to end on the parts that need no engine: arguments, floor probe, JSON report,
and (when redis-server and celery are installed) the Celery baseline."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench import run

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_benchmark_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "B1,B9"])
    assert "unknown benchmark B9" in capsys.readouterr().err


def test_unknown_system_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--systems", "fast,temporal"])
    assert "unknown system temporal" in capsys.readouterr().err


def _run(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def test_floor_only_run_writes_a_full_report(tmp_path: Path) -> None:
    report = _run(tmp_path, "--only", "F")
    machine = report["machine"]
    assert isinstance(machine, dict)
    assert machine["cores"] and machine["python"].startswith("CPython")
    assert machine["packages"]["httpx"]
    (floor,) = report["results"]
    assert floor["bench"] == "F" and floor["not_measured"] is None
    metrics = floor["metrics"]
    assert metrics["fork_cpu_ms"] > 0 and metrics["reused_wall_ms"] > 0
    table = str(report["table_markdown"])
    assert "| fork per run: CPU per run (parent + child) |" in table
    assert "synchronous=FULL" in table
    assert "| benchmark |" not in table  # no side-by-side rows were measured
    assert metrics["sqlite_commit_full_ms"] > 0


@pytest.mark.celery
def test_celery_baseline_measures_and_stops(tmp_path: Path) -> None:
    report = _run(tmp_path, "--only", "B1,B3", "--systems", "celery")
    results = {r["bench"]: r for r in report["results"]}
    assert results["B1"]["not_measured"] is None, results["B1"]
    assert results["B1"]["metrics"]["p50_ms"] > 0
    assert results["B3"]["metrics"]["n"] == 50


@pytest.mark.celery
def test_celery_stack_stops_what_it_started(tmp_path: Path) -> None:
    from bench._celery import CeleryStack, b1

    stack = CeleryStack(tmp_path)
    mod = stack.start()
    assert stack.redis is not None and stack.worker is not None
    pids = [stack.redis.pid, stack.worker.pid]
    assert b1(mod, 3, 1).metrics["n"] == 3
    stack.stop()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} is still running"


def test_engine_fast_path_b1_is_measured(tmp_path: Path) -> None:
    report = _run(tmp_path, "--only", "B1", "--systems", "fast")
    results = {(r["bench"], r["system"]): r for r in report["results"]}
    assert set(results) == {("B1", "fast"), ("B1", "blocking"), ("B1rest", "fast")}
    b1 = results["B1", "fast"]
    assert b1["not_measured"] is None, b1
    assert b1["metrics"]["n"] == 200 and b1["metrics"]["p50_ms"] > 0
    assert b1["metrics"]["engine_cpu_ms_per_run"] > 0
    assert len(b1["rounds"]) == 2 and len(b1["samples_ms"]) == 200
    assert results["B1rest", "fast"]["metrics"]["p50_ms"] > 0
    blocking = results["B1", "blocking"]  # the blocking client, in the same rounds
    assert blocking["not_measured"] is None and blocking["metrics"]["n"] == 200
    assert not list((tmp_path / "work").rglob("*.db")), "databases are removed after the run"


def test_an_engine_that_cannot_start_is_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import _engine
    from bench._procs import NotMeasured

    monkeypatch.setattr(_engine, "APP", "bench.no_such_module:app")
    with pytest.raises(NotMeasured, match=r"the engine \(fast\) exited with status"):
        _engine.start_engine("fast", tmp_path)


def test_bounded_turns_a_hang_into_not_measured() -> None:
    import asyncio

    from bench._procs import NotMeasured

    async def hang() -> None:
        await asyncio.Event().wait()

    with pytest.raises(NotMeasured, match="did not finish within 0 s"):
        run.bounded(hang(), 0.05)


def test_systems_that_poll_when_idle_are_paused_during_the_others_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import _rounds
    from bench._results import Result

    monkeypatch.setattr(_rounds, "settle", lambda: 0.0)  # no waiting for a quiet machine here
    runner = run.Runner(run.parse_args(["--quick", "--only", "B2", "--workdir", str(tmp_path)]))
    paused: dict[str, bool] = {}
    runner.pausable = {"dbos": lambda state: paused.__setitem__("dbos", state)}
    seen: list[tuple[str, bool | None]] = []

    def slice_of(name: str) -> Any:
        def measure(n: int, warmup: int) -> Result:
            seen.append((name, paused.get("dbos")))
            return Result("B2", name, {"runs_per_s": 1.0, "n": float(n)})

        return measure

    runner.run_side_by_side({"fast": {"B2": slice_of("fast")}, "dbos": {"B2": slice_of("dbos")}})
    assert {name for name, _ in seen} == {"fast", "dbos"}
    assert all(state is (name != "dbos") for name, state in seen), seen
    assert paused["dbos"] is False  # going on again once the rounds are over


def test_the_dbos_worker_is_stopped_and_continued(tmp_path: Path) -> None:
    from bench._dbos import DBOSStack

    stack = DBOSStack(tmp_path, "postgresql://unused")
    stack.worker = subprocess.Popen(  # a process group of its own, as spawn() starts it
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )

    def state(wanted: str) -> str:
        """The process's state once it is one of ``wanted`` (signals arrive in their time)."""
        deadline = time.monotonic() + 10
        while True:
            stat = Path(f"/proc/{stack.worker.pid}/stat").read_text()  # type: ignore[union-attr]
            found = stat[stat.rfind(")") + 2]
            if found in wanted or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    try:
        stack.pause(True)
        assert state("T") == "T"  # stopped
        stack.pause(False)
        assert state("SR") in "SR"  # sleeping or running again
    finally:
        stack.stop()
    assert stack.worker is None
