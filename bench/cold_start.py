"""Cold start of one run, by phase, for three kinds of worker under the local engine.

    python bench/cold_start.py render15|ours_run|ours_fast [RUNS]

``render15`` is Render's published render 1.5.0 worker (the virtualenv ``nox -s interop``
builds), ``ours_run`` this SDK's worker given as a start command (one process per run, as on
Render), ``ours_fast`` this SDK's worker on the engine's fast path (reused, pre-imported
processes). Each run of tests/interop/app_ctx's ``square`` is read back from the REST API; the
phases come from the attempt's ``startedAt`` (the engine launched it), the start-up times the
worker reported (``sdkImportStartedAt``, ``sdkImportFinishedAt``, ``sdkStartedAt``) and
``completedAt``. Prints the medians in milliseconds (docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "tests" / "interop" / "app_ctx"
PHASES = ("launch", "sdk_import", "app_import", "run_and_report")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000


def measure(kind: str, runs: int) -> dict[str, float]:
    bin15 = REPO / ".nox" / "interop" / "tmp" / "render_1_5_0" / "bin"
    ours = Path(sys.executable).parent
    target = {
        "render15": ["--", str(bin15 / "render-workflows"), "main:app"],
        "ours_run": ["--", str(ours / "render-workflows"), "main:app"],
        "ours_fast": ["main:app"],
    }[kind]
    with tempfile.TemporaryDirectory() as tmp:
        port = 18000 + int(time.time() * 1000) % 1000
        command = [sys.executable, "-m", "render_sdk.cli", "dev", "--port", str(port)]
        command += ["--db", str(Path(tmp) / "runs.db"), *target]
        with (Path(tmp) / "engine.log").open("wb") as log:
            engine = subprocess.Popen(command, cwd=APP, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/tasks", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            rows: list[dict[str, float]] = []
            for i in range(runs + 2):
                body = {"task": "square", "input": [i]}
                run = httpx.post(base + "/task-runs", json=body, timeout=90).json()
                while run["status"] not in ("completed", "failed"):
                    time.sleep(0.02)
                    run = httpx.get(f"{base}/task-runs/{run['id']}", timeout=30).json()
                if i < 2:
                    continue  # warm-up: the engine's first runs
                attempt = run["attempts"][0]
                started, done = _at(attempt["startedAt"]), _at(attempt["completedAt"])
                row = {"total": _ms(done, started)}
                if "sdkImportStartedAt" in attempt:
                    s0, s1, s2 = (
                        _at(attempt[k])
                        for k in ("sdkImportStartedAt", "sdkImportFinishedAt", "sdkStartedAt")
                    )
                    row.update(
                        launch=_ms(s0, started),
                        sdk_import=_ms(s1, s0),
                        app_import=_ms(s2, s1),
                        run_and_report=_ms(done, s2),
                    )
                rows.append(row)
        finally:
            engine.terminate()
            engine.wait(30)
    keys = ["total", *(p for p in PHASES if all(p in r for r in rows))]
    return {k: round(statistics.median(r[k] for r in rows), 1) for k in keys}


if __name__ == "__main__":
    kind = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    print(kind, measure(kind, count), f"runs={count}")
