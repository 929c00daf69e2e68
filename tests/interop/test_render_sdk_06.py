"""Render's published SDK 0.6.0 against this engine: its worker, and its client."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from render_sdk import Render
from render_sdk.client.errors import TaskRunError
from tests.e2e._engine import EngineProcess

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def engine06(python06: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """Our engine running the 0.6.0 worker through its start command (process per run)."""
    tmp = tmp_path_factory.mktemp("interop")
    worker = str(python06.parent / "render-workflows")
    proc = EngineProcess(
        tmp / "workflows.db", ["--", worker, "main:app"], tmp / "engine.log", cwd=HERE / "app06"
    )
    proc.start()
    yield proc
    proc.stop()


def test_06_worker_runs_tasks_and_subtasks(
    engine06: EngineProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", engine06.base_url)
    with Render() as render:
        assert render.workflows.run_task("interop/square", [9]).result == 81
        assert render.workflows.run_task("sum_squares", [5]).result == 30
        with pytest.raises(TaskRunError) as caught:
            render.workflows.run_task("fail", ["from 0.6.0"])
    assert "from 0.6.0" in str(caught.value)


def test_06_client_against_this_engine(engine06: EngineProcess, python06: Path) -> None:
    # Render's 0.6.0 client insists on a key even locally; an engine without --api-key ignores it.
    env = {**os.environ, "RENDER_LOCAL_DEV_URL": engine06.base_url, "RENDER_API_KEY": "unused"}
    done = subprocess.run(
        [str(python06), str(HERE / "client06.py"), "interop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    sync, aio = out["sync"], out["async"]
    assert sync["run_task"]["results"] == [25]
    assert sync["run_task"]["status"] in ("completed", "succeeded")
    assert sync["get_task_run"]["id"] == sync["start_task"]["id"]
    assert sync["start_task"]["id"] in sync["list_task_runs"]
    assert sync["canceled"] == "canceled"
    assert sync["failure"]["type"] == "TaskRunError"
    assert "sync failure" in sync["failure"]["message"]
    assert sync["not_found"]["type"] == "ClientError"
    assert [e["id"] for e in sync["events"]] == [sync["start_task"]["id"]]
    assert aio["run_task"]["results"] == [30]
    assert aio["start_await"]["results"] == [49]
    assert aio["get_task_run"]["id"] == aio["start_await"]["id"]
    assert aio["start_await"]["id"] in aio["list_task_runs"]
    assert aio["failure"]["type"] == "TaskRunError" and "async failure" in aio["failure"]["message"]
    assert [e["id"] for e in aio["events"]] == [aio["start_await"]["id"]]
