"""Smoke tests of the front with the real core and real worker processes: process tests, end to
end (the SDK's worker, the command line, the pytest plugin in a pytest process of its own)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from render_sdk.engine.embedded import LocalEngine

pytest_plugins = ["pytester"]
APPS = Path(__file__).resolve().parent / "apps"
pytestmark = pytest.mark.timeout(90)


def events(http: httpx.Client, *run_ids: str) -> list[dict[str, object]]:
    out = []
    with http.stream("GET", "/v1/task-runs/events", params={"taskRunIds": ",".join(run_ids)}) as s:
        assert s.status_code == 200
        for line in s.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[len("data: ") :]))
    return out


def event_ids(http: httpx.Client, *run_ids: str) -> list[int]:
    out = []
    with http.stream("GET", "/v1/task-runs/events", params={"taskRunIds": ",".join(run_ids)}) as s:
        for line in s.iter_lines():
            if line.startswith("id: "):
                out.append(int(line[len("id: ") :]))
    return out


def test_local_engine_runs_tasks_on_a_real_worker() -> None:
    with (
        LocalEngine("smoke_app:app", cwd=APPS) as engine,
        httpx.Client(base_url=engine.base_url, timeout=30) as http,
    ):
        tasks = {item["task"]["name"] for item in http.get("/v1/tasks").json()}
        assert {"square", "sum_squares", "fail", "wait_forever"} <= tasks

        started = http.post("/v1/task-runs", json={"task": "smoke/square", "input": [7]})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        (event,) = events(http, run_id)
        assert event["id"] == run_id
        assert event["status"] == "completed"
        assert event["results"] == [49]
        details = http.get(f"/v1/task-runs/{run_id}").json()
        assert details["results"] == [49]
        # Reconnecting after that event: nothing more to send, the stream ends.
        last_id = {"Last-Event-ID": str(event_ids(http, run_id)[0])}
        with http.stream(
            "GET", "/v1/task-runs/events", params={"taskRunIds": run_id}, headers=last_id
        ) as stream:
            assert [line for line in stream.iter_lines() if line.startswith("data")] == []
        assert details["completedAt"].endswith("Z")
        logs = http.get("/v1/logs", params={"taskRunId": run_id}).json()
        assert [item["log"]["message"] for item in logs] == ["squaring 7"]

        tree = http.post("/v1/task-runs", json={"task": "sum_squares", "input": {"n": 4}})
        root = tree.json()["id"]
        (event,) = events(http, root)
        assert event["results"] == [14]
        children = http.get("/v1/task-runs", params={"rootTaskRunId": root, "limit": 100})
        assert len(children.json()) == 5
        # The inspector's pages read the same engine.
        page = http.get(f"/runs/{root}")
        assert page.status_code == 200
        assert page.text.count('href="/runs/trn-') == 4  # the four subtasks
        assert "squaring" not in page.text  # sum_squares itself printed nothing
        assert "sum_squares" in http.get("/").text
        changes = http.get(engine.inspector_url + "tasks")
        assert "wait_forever" in changes.text

        failing = http.post("/v1/task-runs", json={"task": "fail", "input": ["nope"]}).json()
        (event,) = events(http, failing["id"])
        assert event["status"] == "failed"
        assert "nope" in str(event["error"])

        waiting = http.post("/v1/task-runs", json={"task": "wait_forever"}).json()
        assert http.delete(f"/v1/task-runs/{waiting['id']}").status_code == 204
        (event,) = events(http, waiting["id"])
        assert event["status"] == "canceled"

        bad = http.post("/v1/task-runs", json={"task": "square", "input": {"b": 1}})
        assert bad.status_code == 400
        assert set(bad.json()) == {"id", "message"}


def test_local_engine_with_a_start_command() -> None:
    command = [sys.executable, "smoke_app.py"]
    with (
        LocalEngine(start_command=command, cwd=APPS) as engine,
        httpx.Client(base_url=engine.base_url, timeout=30) as http,
    ):
        run_id = http.post("/v1/task-runs", json={"task": "square", "input": [3]}).json()["id"]
        (event,) = events(http, run_id)
        assert event["results"] == [9]


async def test_async_local_engine_with_a_real_worker() -> None:
    async with (
        LocalEngine("smoke_app:app", cwd=APPS) as engine,
        httpx.AsyncClient(base_url=engine.base_url, timeout=30) as http,
    ):
        answer = await http.post("/v1/task-runs", json={"task": "square", "input": [5]})
        run_id = answer.json()["id"]
        async with http.stream(
            "GET", "/v1/task-runs/events", params={"taskRunIds": run_id}
        ) as stream:
            data = [line async for line in stream.aiter_lines() if line.startswith("data: ")]
        assert json.loads(data[0][len("data: ") :])["results"] == [25]


def test_the_sdk_client_against_a_local_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENDER_LOCAL_DEV_URL", raising=False)
    monkeypatch.delenv("RENDER_USE_LOCAL_DEV", raising=False)
    with LocalEngine("smoke_app:app", cwd=APPS, api_key="local-key") as engine:
        with engine.client() as render:
            details = render.workflows.run_task("smoke/square", [6])
            assert details.result == 36
        for name, value in engine.env().items():
            monkeypatch.setenv(name, value)
        from render_sdk import Render

        with Render() as render:
            assert render.workflows.run_task("square", {"a": 2}).results == [4]


async def test_the_async_sdk_client_against_a_local_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RENDER_LOCAL_DEV_URL", raising=False)
    monkeypatch.delenv("RENDER_USE_LOCAL_DEV", raising=False)
    async with LocalEngine("smoke_app:app", cwd=APPS) as engine:
        async with engine.async_client() as render:
            run = await render.workflows.start_task("square", [8])
            details = await run
            assert details.result == 64


def test_pytest_plugin_local_engine_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "smoke_app.py").write_text((APPS / "smoke_app.py").read_text())
    pytester.makeini(
        """
        [pytest]
        render_workflows_app = smoke_app:app
        """
    )
    pytester.makeconftest('pytest_plugins = ["render_sdk.engine.pytest_plugin"]')
    pytester.makepyfile(
        """
        import os
        from render_sdk import Render

        def test_first(local_engine):
            assert os.environ["RENDER_LOCAL_DEV_URL"] == local_engine.base_url
            with Render() as render:
                assert render.workflows.run_task("square", [3]).result == 9
            test_first.url = local_engine.base_url

        def test_same_engine_for_the_session(local_engine):
            assert local_engine.base_url == test_first.url

        def test_env_is_restored_without_the_fixture():
            assert "RENDER_LOCAL_DEV_URL" not in os.environ
        """
    )
    monkeypatch.delenv("RENDER_LOCAL_DEV_URL", raising=False)
    monkeypatch.delenv("RENDER_USE_LOCAL_DEV", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_render_workflows_dev_with_the_real_core(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    command = [sys.executable, "-m", "render_sdk.cli", "dev", "--port", "0", "--db", str(db)]
    proc = subprocess.Popen(
        [*command, "smoke_app:app"],
        cwd=APPS,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("render-workflows dev: listening on http://127.0.0.1:"), line
        assert line.rstrip().endswith(f"(db: {db})")
        base_url = line.split()[4]
        with httpx.Client(base_url=base_url, timeout=30) as http:
            run_id = http.post("/v1/task-runs", json={"task": "square", "input": [4]}).json()["id"]
            (event,) = events(http, run_id)
            assert event["results"] == [16]
        # A line for the run's state changes and one for the worker's output, naming the run.
        printed: list[str] = []
        for printed_line in proc.stdout:
            printed.append(printed_line)
            if "squaring 4" in printed_line:
                break
        assert any(run_id in p and "square" in p for p in printed), printed
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "render-workflows dev: stopped" in out
    assert db.exists()
