"""Engine crash: SIGKILL the engine at random moments under load; nothing accepted is lost.

A loader thread posts runs (``leaf``: a task whose first attempt fails for some inputs, ``tree``: a
parent that gathers ``leaf`` subtasks) while the test SIGKILLs the engine at seeded random moments
and restarts it on the same database. Afterwards every run that got a 202 must be terminal,
successful and carry the right result.

How POSTs are counted: a 202 is *accepted*; a connection refused (engine down) is *refused* and
cannot have created a run; any other transport error (the engine died during the request) is
*in doubt*: the run may or may not exist. Every root run's input carries a unique key, so the
listing of runs tells which in-doubt POSTs did create a run (those must finish correctly too) and
proves that no run appeared that nobody asked for.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.e1._rest import (
    SUCCESS,
    TERMINAL,
    engine_process,
    get_run,
    list_all_runs,
    report_figures,
    wait_terminal,
)
from tests.reliability.e1.apps.crash_app import expected

INTERRUPTED = "interrupted:"


@dataclass
class LoadRecord:
    """What the client side saw."""

    accepted: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)  # id -> call
    in_doubt: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)  # key -> call
    refused: int = 0
    unexpected: list[str] = field(default_factory=list)


def _load(
    base_url: str,
    marker_dir: Path,
    seed: int,
    max_roots: int,
    interval: float,
    stop: threading.Event,
    record: LoadRecord,
) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0)) as client:
        number = 0
        while not stop.is_set() and len(record.accepted) < max_roots:
            number += 1
            key = f"r{number}"
            task = "tree" if rng.random() < 0.35 else "leaf"
            size = rng.randint(2, 4) if task == "tree" else rng.randint(0, 30)
            args: list[Any] = [str(marker_dir), key, size]
            try:
                answer = client.post("/v1/task-runs", json={"task": task, "input": args})
            except httpx.ConnectError:
                record.refused += 1
                stop.wait(0.05)
                continue
            except httpx.TransportError:
                record.in_doubt[key] = (task, args)
                continue
            if answer.status_code == 202:
                record.accepted[answer.json()["id"]] = (task, args)
            else:
                record.unexpected.append(f"{answer.status_code} {answer.text[:200]}")
            stop.wait(interval)


def _crash_under_load(
    tmp_path: Path,
    *,
    seed: int,
    kills: int,
    max_roots: int,
    interval: float,
    drain: float,
    target: list[str] | None = None,
) -> dict[str, Any]:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    worker = target or ["crash_app:app"]
    engine = engine_process(tmp_path, worker, "--max-concurrency", "4")
    engine.start()
    rng = random.Random(seed)
    record = LoadRecord()
    stop = threading.Event()
    loader = threading.Thread(
        target=_load,
        args=(engine.base_url, marker_dir, seed + 1, max_roots, interval, stop, record),
        daemon=True,
    )
    loader.start()
    began = time.monotonic()
    restarts: list[float] = []
    try:
        for _ in range(kills):
            stop.wait(rng.uniform(0.1, 0.8))  # a random moment of the load
            engine.kill()
            down = time.monotonic()
            engine.start()
            restarts.append(time.monotonic() - down)
        stop.set()
        killing = time.monotonic() - began
        loader.join(timeout=30)
        assert not loader.is_alive()
        assert record.unexpected == [], record.unexpected

        done = wait_terminal(engine.base_url, list(record.accepted), timeout=drain)
        lost = [run_id for run_id in record.accepted if run_id not in done]
        assert lost == [], f"{len(lost)} accepted runs did not finish: {lost[:10]}"

        with httpx.Client(base_url=engine.base_url, timeout=30.0) as client:
            listed = list_all_runs(client)
            # Subtasks of interrupted parent attempts may still be finishing.
            wait_terminal(engine.base_url, [run["id"] for run in listed], timeout=drain)
            details = [get_run(client, run["id"]) for run in listed]
        figures = _check(record, details)
        figures["drain_s"] = round(time.monotonic() - began - killing, 1)
        figures["kill_phase_s"] = round(killing, 1)
        figures["restart_to_ready_s_max"] = round(max(restarts), 2)
        figures["restart_to_ready_s_mean"] = round(sum(restarts) / len(restarts), 2)
    finally:
        stop.set()
        engine.stop()
    figures.update(seed=seed, kills=kills)
    return figures


def _check(record: LoadRecord, details: list[dict[str, Any]]) -> dict[str, Any]:
    by_id = {run["id"]: run for run in details}
    for run_id, (task, args) in record.accepted.items():
        run = by_id.get(run_id)
        assert run is not None, f"accepted run {run_id} disappeared"
        assert run["status"] in SUCCESS, run
        assert run["results"] == [expected(task, args)], run

    roots = [run for run in details if not run["parentTaskRunId"]]
    keys = Counter(run["input"][1] for run in roots)
    assert max(keys.values()) == 1, "one POST made two runs"
    accepted_keys = {args[1] for _, args in record.accepted.values()}
    created_in_doubt = 0
    for run in roots:
        key = run["input"][1]
        if key in accepted_keys:
            continue
        assert key in record.in_doubt, f"a run nobody asked for: {run}"
        created_in_doubt += 1
        task, args = record.in_doubt[key]
        assert run["status"] in SUCCESS and run["results"] == [expected(task, args)], run
    assert all(run["status"] in TERMINAL for run in details)

    attempts = [attempt for run in details for attempt in run["attempts"]]
    interrupted = sum(1 for a in attempts if (a.get("error") or "").startswith(INTERRUPTED))
    failed_on_purpose = sum(1 for a in attempts if "fails on purpose" in (a.get("error") or ""))
    subtasks = len(details) - len(roots)
    asked_subtasks = sum(args[2] for task, args in record.accepted.values() if task == "tree")
    return {
        "accepted": len(record.accepted),
        "refused_while_down": record.refused,
        "in_doubt": len(record.in_doubt),
        "in_doubt_created": created_in_doubt,
        "finished": sum(1 for run in details if run["id"] in record.accepted),
        "lost": 0,
        "runs_total": len(details),
        "subtask_runs": subtasks,
        "subtask_runs_beyond_one_per_call": subtasks - asked_subtasks,
        "attempts": len(attempts),
        "re_executed_attempts": interrupted,
        "failed_on_purpose_then_retried": failed_on_purpose,
    }


@pytest.mark.timeout(600)  # ten engine kills and restarts: minutes on a loaded 2-core machine
def test_sigkill_under_load_loses_nothing(tmp_path: Path) -> None:
    figures = _crash_under_load(
        tmp_path, seed=20261125, kills=10, max_roots=80, interval=0.03, drain=120
    )
    report_figures("engine_crash_bounded", figures)
    assert figures["accepted"] > 0
    assert figures["re_executed_attempts"] > 0  # the kills did hit running attempts


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_sigkill_under_load_loses_nothing_soak(tmp_path: Path) -> None:
    figures = _crash_under_load(
        tmp_path, seed=7, kills=50, max_roots=2000, interval=0.01, drain=900
    )
    report_figures("engine_crash_soak", figures)
    assert figures["re_executed_attempts"] > 0


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_sigkill_under_load_loses_nothing_process_per_run_soak(tmp_path: Path) -> None:
    """The same with one worker process per run (``-- START COMMAND``)."""
    figures = _crash_under_load(
        tmp_path,
        seed=11,
        kills=20,
        max_roots=1000,
        interval=0.02,
        drain=900,
        target=["--", sys.executable, "crash_app.py"],
    )
    report_figures("engine_crash_process_per_run_soak", figures)
    assert figures["re_executed_attempts"] > 0
