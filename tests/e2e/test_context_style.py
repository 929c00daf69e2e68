"""The context-style workflow of tests/interop/app_ctx under this engine and this SDK's own
worker (its fast path): the same file runs under Render's 1.5.0 worker in tests/interop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from render_sdk import Render
from render_sdk.client import ListTaskRunsParams
from render_sdk.client.errors import TaskRunError
from tests.e2e._engine import EngineProcess

APP = Path(__file__).resolve().parents[1] / "interop" / "app_ctx"


@pytest.fixture(scope="module")
def ctx_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    tmp = tmp_path_factory.mktemp("ctx-engine")
    proc = EngineProcess(tmp / "workflows.db", ["main:app"], tmp / "engine.log", cwd=APP)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def render(ctx_engine: EngineProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Render]:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", ctx_engine.base_url)
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    with Render() as client:
        yield client


def test_ctx_run_and_fan_out(render: Render) -> None:
    assert render.workflows.run_task("square", [7]).result == 49
    details = render.workflows.run_task("sum_squares", [20])
    assert details.result == sum(i * i for i in range(20))
    tree = render.workflows.list_task_runs(
        ListTaskRunsParams(root_task_run_id=details.id, limit=100)
    )
    assert len([r for r in tree if r.parent_task_run_id == details.id]) == 20
    assert render.workflows.run_task("named_input", {"a": 5}).result == 26


def test_metadata_matches_the_run_ids_of_the_api(render: Render) -> None:
    details = render.workflows.run_task("ids", [])
    own, child = details.result["self"], details.result["child"]
    assert own == {
        "task_run_id": details.id,
        "root_task_run_id": details.id,
        "parent_task_run_id": None,
    }
    [child_run] = [
        r
        for r in render.workflows.list_task_runs(ListTaskRunsParams(root_task_run_id=details.id))
        if r.id != details.id
    ]
    assert child == {
        "task_run_id": child_run.id,
        "root_task_run_id": details.id,
        "parent_task_run_id": details.id,
    }


def test_failure_with_retries(render: Render, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    details = render.workflows.run_task("retried_child", [str(counter)])
    assert details.result == 2  # the child's first attempt failed, its retry succeeded
    assert counter.read_text() == "2"
    caught = render.workflows.run_task("catches", ["no luck"]).result
    assert caught["type"] == "SubtaskError"
    assert "no luck" in caught["message"]
    with pytest.raises(TaskRunError, match="boom twice"):
        render.workflows.run_task("always_fails", ["boom twice"])
