"""Plain-HTTP helpers of the reliability tests: start runs, read them, wait on the event stream."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from render_sdk.client._sse import SSEDecoder
from tests.e2e._engine import EngineProcess, engine_db

APPS = Path(__file__).resolve().parent / "apps"
TERMINAL = {"completed", "succeeded", "failed", "canceled"}
SUCCESS = {"completed", "succeeded"}
EVENT_IDS_PER_STREAM = 200


def engine_process(tmp: Path, target: list[str], *args: str, name: str = "engine") -> EngineProcess:
    """An engine serving an app of ``tests/reliability/e1/apps`` on a database in ``tmp`` (or on
    PostgreSQL: see tests/e2e/_engine.py's engine_db)."""
    return EngineProcess(
        engine_db(tmp, name), target, tmp / f"{name}.log", extra_args=list(args), cwd=APPS
    )


def start_run(client: httpx.Client, task: str, args: Any, key: str | None = None) -> str:
    """POST a run; assert the 202; return its id."""
    headers = {"Idempotency-Key": key} if key else {}
    answer = client.post("/v1/task-runs", json={"task": task, "input": args}, headers=headers)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def get_run(client: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = client.get(f"/v1/task-runs/{run_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def list_all_runs(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    """Every run the engine lists (all pages), newest first."""
    runs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, str] = {"limit": "100", **params}
        if cursor:
            query["cursor"] = cursor
        answer = client.get("/v1/task-runs", params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        runs.extend(item["taskRun"] for item in page)
        if len(page) < 100:
            return runs
        cursor = page[-1]["cursor"]


def wait_terminal(
    base_url: str, run_ids: Iterable[str], timeout: float = 120.0
) -> dict[str, dict[str, Any]]:
    """Wait on the engine's event stream until every run is terminal; their details by id.

    Streams of at most 200 ids each (the URL stays short); a stream that breaks is opened again
    with the ids still missing. Returns what arrived before ``timeout`` (the caller asserts on
    completeness).
    """
    missing = list(dict.fromkeys(run_ids))
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=30.0)) as client:
        while missing and time.monotonic() < deadline:
            chunk = missing[:EVENT_IDS_PER_STREAM]
            try:
                for event in stream_events(client, chunk):
                    body = json.loads(event.data)
                    done[body["id"]] = body
                    if time.monotonic() > deadline:
                        break
            except httpx.TransportError:
                time.sleep(0.1)
            missing = [run_id for run_id in missing if run_id not in done]
    return done


def stream_events(
    client: httpx.Client, run_ids: list[str], last_event_id: str | None = None
) -> Iterable[Any]:
    """Yield the decoded events of one ``GET /v1/task-runs/events`` stream until it ends."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {"taskRunIds": ",".join(run_ids)}
    with client.stream("GET", "/v1/task-runs/events", params=params, headers=headers) as answer:
        assert answer.status_code == 200, answer.read().decode()
        decoder = SSEDecoder()
        for text in answer.iter_text():
            yield from decoder.feed(text)


def report_figures(name: str, figures: dict[str, Any]) -> None:
    """Print a test's figures as one JSON line; also append it to $RELIABILITY_FIGURES if set."""
    line = json.dumps({"test": name, **figures}, sort_keys=True)
    print(line)
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")
