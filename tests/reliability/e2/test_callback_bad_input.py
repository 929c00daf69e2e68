"""Bad input on the callback API, sent from inside a real worker process.

The engine's socket folder is private, so the misbehaving client is the worker itself:
``apps/misbehaving_worker.py``, started by a real engine as ``-- python misbehaving_worker.py``
(one process per attempt), speaks raw HTTP/1.1 on its socket, breaks the rules on purpose and
writes every answer it got to a report the test reads. Each bad request must get a 4xx (a request
that is not HTTP at all gets 400, or the connection closed), be logged by the engine, and the
engine must keep serving: the run ends the way the worker's last valid callback says.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e._engine import EngineProcess
from tests.reliability.e2.conftest import misbehaving_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, reports: Path) -> Iterator[EngineProcess]:
    proc = misbehaving_engine(tmp_path_factory.mktemp("callback-engine"), reports)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def api(engine: EngineProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine.base_url + "/v1", timeout=60) as client:
        yield client


def run(api: httpx.Client, task: str, arg: Any = None) -> dict[str, Any]:
    """Start ``task`` and return its details once it is terminal (waiting on the event stream)."""
    started = api.post("/task-runs", json={"task": task, "input": [arg]})
    assert started.status_code == 202, started.text
    return finish(api, started.json()["id"])


def finish(api: httpx.Client, run_id: str) -> dict[str, Any]:
    with api.stream("GET", "/task-runs/events", params={"taskRunIds": run_id}) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                return dict(json.loads(line[len("data:") :]))
    raise AssertionError(f"no terminal event for {run_id}")


def report(reports: Path, scenario: str, last: str | None = None) -> dict[str, Any]:
    """The scenario's answers by label: {label: {"status": ..., "body": ...}}.

    With ``last``, first wait until the worker wrote that label: a worker may go on sending
    requests after the callback that ended its run.
    """
    path = reports / f"{scenario}.jsonl"
    deadline = time.monotonic() + 30
    while last is not None and f'"label": "{last}"' not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.02)
    lines = path.read_text().splitlines()
    found: dict[str, Any] = {}
    for line in lines:
        item = json.loads(line)
        found.setdefault(item["label"], item)
    return found


def assert_refused(seen: dict[str, Any], label: str, status: int, *words: str) -> None:
    item = seen[label]
    assert item["status"] == status, (label, item)
    message = item["body"]["error"]
    for word in words:
        assert word in message, (label, message)


def test_registration_survives_bad_requests(engine: EngineProcess, reports: Path) -> None:
    seen = report(reports, "register", last="register again")
    assert_refused(seen, "not json", 400, "not valid JSON")
    assert_refused(seen, "tasks not a list", 400, "'tasks' must be a list")
    assert_refused(seen, "input in register mode", 409, "register mode")
    assert_refused(seen, "callback in register mode", 409, "register mode")
    assert seen["register"]["status"] == 200
    assert_refused(seen, "register again", 409, "already registered")


def test_wrong_call_order(api: httpx.Client, reports: Path) -> None:
    (reports / "wrong_order.next").touch()
    details = run(api, "wrong_order")
    assert details["status"] == "completed", details
    assert details["results"] == ["in order at last"]
    seen = report(reports, "wrong_order")
    for label in ("callback before input", "run-subtask before input", "result before input"):
        assert_refused(seen, label, 409, "wrong call order")
    assert_refused(seen, "register in run mode", 409, "register mode")
    assert_refused(seen, "unknown endpoint", 404, "/nowhere")
    assert_refused(seen, "wrong method on /callback", 405, "GET")
    assert_refused(seen, "wrong method on /input", 405, "DELETE")


def test_malformed_bodies(api: httpx.Client, reports: Path) -> None:
    details = run(api, "malformed")
    assert details["status"] == "completed", details
    assert details["results"] == ["survived"]
    seen = report(reports, "malformed")
    for label, item in seen.items():
        if label.startswith(("callback:", "run-subtask:", "result:")):
            expected = 404 if "unknown task" in label else 400
            assert item["status"] == expected, (label, item)
            assert item["body"]["error"], label
    assert "base64" in seen["callback: output not base64"]["body"]["error"]
    assert "JSON" in seen["callback: not JSON"]["body"]["error"]
    not_http = seen["raw: not HTTP"]["status"]
    assert not_http == "closed" or not_http.startswith("HTTP/1.1 400"), not_http
    assert seen["raw: bad header"]["status"].startswith("HTTP/1.1 400")
    assert seen["raw: body over the limit"]["status"].startswith("HTTP/1.1 413")
    assert seen["raw: bad content-length"]["status"].startswith("HTTP/1.1 400")


def test_second_callback_is_refused_and_first_one_counts(api: httpx.Client, reports: Path) -> None:
    details = run(api, "twice")
    assert details["status"] == "completed", details
    assert details["results"] == ["first"]
    assert len(details["attempts"]) == 1
    seen = report(reports, "twice", last="input after callback")
    assert seen["first callback"]["status"] == 200
    assert_refused(seen, "second callback", 409, "already ended")
    assert_refused(seen, "error after complete", 409, "already ended")
    assert_refused(seen, "run-subtask after callback", 409)
    assert_refused(seen, "input after callback", 409, "already ended")


def test_unknown_subtask_ids(api: httpx.Client, reports: Path) -> None:
    other = run(api, "ok", "another root run")
    details = run(api, "unknown_subtask", other["id"])
    assert details["status"] == "completed", details
    seen = report(reports, "unknown_subtask")
    assert_refused(seen, "result: unknown id", 404, "trn-does-not-exist")
    assert_refused(seen, "result: empty id", 404)
    assert_refused(seen, "result: not a child", 404, "not a subtask of")
    child = seen["result: real child (long-poll)"]
    assert child["status"] == 200 and child["body"]["still_running"] is False


def test_callback_after_cancel(api: httpx.Client, reports: Path) -> None:
    """A callback after the run was canceled never changes it: 409, or the socket is gone."""
    started = api.post("/task-runs", json={"task": "after_cancel", "input": [None]}).json()
    log = reports / "after_cancel.jsonl"
    deadline = time.monotonic() + 60
    while "waiting for cancel" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the helper never got ready"
        time.sleep(0.05)
    assert api.delete(f"/task-runs/{started['id']}").status_code == 204
    (reports / "after_cancel.go").touch()
    while "new connection" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    seen = report(reports, "after_cancel")
    for label in (
        "callback after cancel (kept connection)",
        "callback after cancel (new connection)",
    ):
        status = seen[label]["status"]
        if status == 409:
            assert "canceled" in seen[label]["body"]["error"]
        else:  # the engine stopped the worker and removed its socket
            assert status in {
                "RemoteDisconnected",
                "ConnectionResetError",
                "BrokenPipeError",
                "FileNotFoundError",
                "ConnectionRefusedError",
            }, seen[label]
    details = api.get(f"/task-runs/{started['id']}").json()
    assert details["status"] == "canceled"
    assert "results" not in details or not details["results"]


def test_engine_logged_each_refusal_and_keeps_serving(
    api: httpx.Client, engine: EngineProcess
) -> None:
    details = run(api, "ok", 42)
    assert details["status"] == "completed" and details["results"] == [42]
    output = engine.output()
    for fragment in (
        "callback API POST /callback: /callback: wrong call order",
        "callback API POST /callback: /callback: body is not valid JSON",
        "callback API POST /callback: /callback: the attempt of run",
        "callback API POST /get-subtask-result: /get-subtask-result: unknown subtask id",
        "is not a subtask of",
        "callback API POST /run-subtask: /run-subtask: unknown task 'no_such'",
        "callback API POST /register-tasks: /register-tasks: the tasks were already registered",
        "callback API: unparsable request: ",
        "callback API: request body over",
    ):
        assert fragment in output, fragment
    assert "Traceback" not in output, output[-3000:]
