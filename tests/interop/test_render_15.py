"""Render's published render 1.5.0 (with render-sdk 1.5.0) against this engine: its worker
running the context-style workflow of app_ctx/, and its Render and RenderAsync clients."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from render_sdk import Render
from render_sdk.client import ListTaskRunsParams
from render_sdk.client.errors import TaskRunError
from tests.e2e._engine import EngineProcess

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def engine15(python15: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """Our engine running the 1.5.0 worker through its start command (process per run)."""
    tmp = tmp_path_factory.mktemp("interop15")
    worker = str(python15.parent / "render-workflows")
    proc = EngineProcess(
        tmp / "workflows.db", ["--", worker, "main:app"], tmp / "engine.log", cwd=HERE / "app_ctx"
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def render(engine15: EngineProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Render]:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", engine15.base_url)
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    with Render() as client:
        yield client


def test_15_worker_registers_without_the_context(render: Render) -> None:
    tasks = {t.name for t in render.workflows.list_tasks()}
    assert {"square", "sum_squares", "ids", "flaky", "catches"} <= tasks
    details = render.workflows.run_task("interop/square", [9])
    assert details.result == 81
    assert render.workflows.run_task("named_input", {"a": 5}).result == 26


def test_15_worker_ctx_run_and_fan_out(render: Render) -> None:
    details = render.workflows.run_task("sum_squares", [12])
    assert details.result == sum(i * i for i in range(12))
    tree = render.workflows.list_task_runs(
        ListTaskRunsParams(root_task_run_id=details.id, limit=100)
    )
    children = [r for r in tree if r.parent_task_run_id == details.id]
    assert len(children) == 12
    assert {r.parent_task_attempt for r in children} == {0}


def test_15_worker_metadata_matches_the_api(render: Render) -> None:
    details = render.workflows.run_task("ids", [])
    [child] = [
        r
        for r in render.workflows.list_task_runs(ListTaskRunsParams(root_task_run_id=details.id))
        if r.id != details.id
    ]
    assert details.result == {
        "self": {
            "task_run_id": details.id,
            "root_task_run_id": details.id,
            "parent_task_run_id": None,
        },
        "child": {
            "task_run_id": child.id,
            "root_task_run_id": details.id,
            "parent_task_run_id": details.id,
        },
    }


def test_15_worker_failure_with_retries(render: Render, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    assert render.workflows.run_task("retried_child", [str(counter)]).result == 2
    caught = render.workflows.run_task("catches", ["no luck"]).result
    assert caught["type"] == "TaskRunError" and "no luck" in caught["message"]
    with pytest.raises(TaskRunError, match="boom twice") as failed:
        render.workflows.run_task("always_fails", ["boom twice"])
    details = failed.value.details
    assert details is not None and [a.attempt for a in details.attempts] == [0, 1]


def test_15_worker_reports_its_start_up(render: Render) -> None:
    details = render.workflows.run_task("square", [2])
    [attempt] = details.attempts
    assert attempt.sdk_import_started_at is not None
    assert attempt.sdk_import_finished_at is not None and attempt.sdk_started_at is not None
    assert attempt.sdk_import_started_at <= attempt.sdk_import_finished_at
    assert attempt.sdk_import_finished_at <= attempt.sdk_started_at


def _client15(python15: Path, engine: EngineProcess) -> dict[str, Any]:
    env = {**os.environ, "RENDER_LOCAL_DEV_URL": engine.base_url}
    env.pop("RENDER_API_KEY", None)
    done = subprocess.run(
        [str(python15), str(HERE / "client15.py"), "interop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_15_clients_every_operation(engine15: EngineProcess, python15: Path) -> None:
    out = _client15(python15, engine15)
    sync, aio = out["sync"], out["async"]
    assert sync["run_task"]["results"] == [25]
    assert sync["run_task"]["status"] in ("completed", "succeeded")
    assert sync["run_task"]["attempts"] == [
        {"attempt": 0, "status": sync["run_task"]["status"], "task_run_id": sync["run_task"]["id"]}
    ]
    assert sync["run_task_named"]["results"] == [17]
    assert sync["idempotent"]["first"] == sync["idempotent"]["again"]
    conflict = sync["idempotent_conflict"]
    assert conflict["type"] == "ClientError"
    assert "idempotency key" in conflict["message"] and "different" in conflict["message"]
    assert sync["await_started"]["id"] == sync["idempotent"]["first"]
    assert sync["await_started"]["results"] == [36]
    assert sync["get_task_run"]["id"] == sync["idempotent"]["first"]
    assert sync["idempotent"]["first"] in sync["list_task_runs"]
    assert sync["canceled"]["status"] == "canceled"
    assert sync["cancel_again"]["type"] == "ClientError"
    assert sync["failure"]["type"] == "TaskRunError"
    assert "sync failure" in sync["failure"]["message"]
    assert sync["not_found"] == {
        "type": "ClientError",
        "message": sync["not_found"]["message"],
        "code": None,
    }
    assert "not found" in sync["not_found"]["message"]
    assert [e["id"] for e in sync["events"]] == [sync["idempotent"]["first"]]

    assert aio["run_task"]["results"] == [sum(i * i for i in range(6))]
    assert aio["start_await"]["results"] == [64]
    assert aio["idempotent"]["first"] == aio["idempotent"]["again"]
    assert aio["get_task_run"]["id"] == aio["idempotent"]["first"]
    assert aio["idempotent"]["first"] in aio["list_task_runs"]
    assert aio["failure"]["type"] == "TaskRunError" and "async failure" in aio["failure"]["message"]
    assert [e["id"] for e in aio["events"]] == [aio["start_await"]["id"]]
