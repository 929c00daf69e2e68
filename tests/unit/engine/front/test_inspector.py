"""The run inspector's pages over a fake core: content, escaping, forms, sign-in, change stream."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from render_sdk.engine.auth import SESSION_COOKIE
from render_sdk.engine.embedded import LocalEngine
from render_sdk.engine.inspector import CSP
from render_sdk.engine.records import (
    ParameterRecord,
    ReasonCode,
    RetryOptions,
    RunStatus,
    TaskRecord,
)

from .conftest import Served
from .fake_core import T0, FakeCore, square_task

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
XSS_ESCAPED = (
    "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;"
)


def assert_inert(html: str) -> None:
    """The payload shows as text: escaped, never as markup."""
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert(2)>" not in html


def evil_task() -> TaskRecord:
    return TaskRecord(
        id="tsk-evil",
        name=XSS,
        created_at=T0,
        parameters=(
            ParameterRecord(name=XSS, has_default=True, type=XSS, default_value=json.dumps(XSS)),
        ),
        retry=RetryOptions(max_retries=2, wait_duration_ms=100, factor=2.0),
        timeout_seconds=30,
        plan="starter",
    )


@pytest.fixture
async def evil() -> AsyncIterator[Served]:
    core = FakeCore(tasks=[square_task(), evil_task()])
    async with LocalEngine(core=core) as engine:
        async with httpx.AsyncClient(base_url=engine.base_url, timeout=10) as http:
            yield Served(core, engine, http)


async def test_pages_send_a_strict_content_security_policy(served: Served) -> None:
    run = await served.core.start_run(served.core.tasks[0], [1])
    for path in ["/", f"/runs/{run.id}", "/tasks", "/runs/trn-nope"]:
        answer = await served.http.get(path)
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert "script-src 'self';" in CSP and "unsafe" not in CSP
        # No inline script or style for the policy to block: every script is a file of ours.
        html = answer.text
        assert re.findall(r"<script[^>]*>", html) == [
            '<script src="/static/htmx.min.js" defer>',
            '<script src="/static/inspector.js" defer>',
        ]
        assert " style=" not in html and "<style" not in html


async def test_the_runs_page_lists_runs_newest_first_with_their_facts(served: Served) -> None:
    core = served.core
    root = await core.start_run(core.tasks[0], [1])
    child = core.add_child(root.id, core.tasks[1], {"name": "x"})
    core.finish(child.id, results=["hi"])
    html = (await served.http.get("/")).text
    assert html.index(child.id) < html.index(root.id)
    assert f'href="/runs/{root.id}"' in html
    assert "subtask" in html and "root" in html
    assert 'data-live-runs hx-get="/?' in html
    roots_only = (await served.http.get("/", params={"roots": "1"})).text
    assert root.id in roots_only and child.id not in roots_only
    completed = (await served.http.get("/", params={"status": "completed"})).text
    assert child.id in completed and root.id not in completed
    by_task = (await served.http.get("/", params={"task": "greet"})).text
    assert child.id in by_task and root.id not in by_task
    unknown = await served.http.get("/", params={"task": "nope"})
    assert (
        unknown.status_code == 400 and "no registered task is named &#39;nope&#39;" in unknown.text
    )
    fragment = await served.http.get("/", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith("<tr")


async def test_the_runs_page_pages_with_a_cursor(served: Served) -> None:
    core = served.core
    ids = [(await core.start_run(core.tasks[0], [i])).id for i in range(120)]
    first = (await served.http.get("/")).text
    assert ids[-1] in first and ids[-50] in first and ids[-51] not in first
    older = re.search(r'href="(/\?cursor=[^"]+)" rel="next"', first)
    assert older is not None
    second = (await served.http.get(older.group(1).replace("&amp;", "&"))).text
    assert ids[-51] in second and ids[-100] in second and ids[-50] not in second
    assert "data-live-runs" not in second  # only the newest page follows new runs
    failed = (await served.http.get("/", params={"status": "failed"})).text
    assert "No runs match these filters" in failed


async def test_a_filtered_runs_page_pages_with_a_cursor_over_every_match(served: Served) -> None:
    """Filters are the engine's: a page holds 50 matches however many runs lie between them,
    and the next page's link keeps the filters."""
    core = served.core
    failed: list[str] = []
    for i in range(300):
        run = await core.start_run(core.tasks[0], [i])
        if i % 5 == 0:
            core.finish(run.id, RunStatus.FAILED, error="boom")
            failed.append(run.id)
    first = (await served.http.get("/", params={"status": "failed", "roots": "1"})).text
    shown = re.findall(r'href="/runs/(trn-[^"]+)"', first)
    assert shown == failed[::-1][:50]
    older = re.search(r'href="(/\?[^"]+)" rel="next"', first)
    assert older is not None and "status=failed" in older.group(1) and "roots=1" in older.group(1)
    second = (await served.http.get(older.group(1).replace("&amp;", "&"))).text
    assert re.findall(r'href="/runs/(trn-[^"]+)"', second) == failed[::-1][50:]
    assert 'rel="next"' not in second


async def test_the_run_page_shows_input_result_attempts_tree_and_logs(served: Served) -> None:
    core = served.core
    root = await core.start_run(core.tasks[0], [7])
    children = [core.add_child(root.id, core.tasks[1], {"name": f"c{i}"}) for i in range(20)]
    grandchild = core.add_child(children[0].id, core.tasks[0], [1])
    core.begin(root.id)
    core.add_log(root.id, "hello from the task")
    core.finish(
        children[1].id, RunStatus.FAILED, error="Traceback (most recent call last):\n  boom"
    )
    html = (await served.http.get(f"/runs/{root.id}")).text
    assert "21 subtask runs below this run" in html
    for child in [*children, grandchild]:
        assert f'href="/runs/{child.id}"' in html
    assert 'class="d2"' in html  # the grandchild sits two levels down
    assert html.count('<rect class="bar') == 22
    assert "hello from the task" in html
    assert "Cancel this run and its subtasks" in html
    failed = (await served.http.get(f"/runs/{children[1].id}")).text
    assert "Traceback (most recent call last):" in failed and "boom" in failed
    assert f'href="/runs/{root.id}"' in failed
    done = core.finish(children[2].id, results=[{"ok": True}])
    page = (await served.http.get(f"/runs/{done.id}")).text
    assert "&#34;ok&#34;: true" in page and "Cancel this run" not in page


@pytest.mark.parametrize(
    ("error", "reason", "detail", "label"),
    [
        ("timed out after 2s", ReasonCode.TIMED_OUT, "2s", "timed out after 2s"),
        (
            "worker process ended without a callback (exit status 3)",
            ReasonCode.CRASHED,
            "exit status 3",
            "crashed (exit status 3)",
        ),
        ("interrupted: ...", ReasonCode.INTERRUPTED, None, "interrupted by an engine restart"),
        ("ValueError: bad", ReasonCode.TASK_ERROR, None, "failed: ValueError: bad"),
        ("ValueError: old", None, None, "failed: ValueError: old"),  # kept before reasons were
    ],
)
async def test_attempts_say_why_they_ended(
    served: Served, error: str, reason: ReasonCode | None, detail: str | None, label: str
) -> None:
    run = await served.core.start_run(served.core.tasks[0], [1])
    served.core.finish(run.id, RunStatus.FAILED, None, error, reason, detail)
    assert label in (await served.http.get(f"/runs/{run.id}")).text
    answer = await served.http.get(f"/ui/runs/{run.id}/reasons")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    expected = {"reason": reason and reason.value, "reasonDetail": detail, "label": label}
    assert answer.json() == {
        "id": run.id,
        "status": "failed",
        **expected,
        "attempts": [{"number": 1, "status": "failed", **expected}],
    }


async def test_reasons_of_an_unknown_run_are_a_404(served: Served) -> None:
    answer = await served.http.get("/ui/runs/trn-nope/reasons")
    assert answer.status_code == 404 and answer.json()["id"] == "not_found"


async def test_cancel_from_the_page(served: Served) -> None:
    run = await served.core.start_run(served.core.tasks[0], [1])
    answer = await served.http.post(f"/runs/{run.id}/cancel", headers={"Origin": origin(served)})
    assert answer.status_code == 303 and answer.headers["location"] == f"/runs/{run.id}"
    assert served.core.runs[run.id].status is RunStatus.CANCELED
    again = await served.http.post(f"/runs/{run.id}/cancel")
    assert again.status_code == 409 and "already canceled" in again.text
    other = await served.core.start_run(served.core.tasks[0], [2])
    refused = await served.http.post(
        f"/runs/{other.id}/cancel", headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert served.core.runs[other.id].status is RunStatus.PENDING


def origin(served: Served) -> str:
    return served.engine.base_url


async def test_the_tasks_page_and_its_start_form(served: Served) -> None:
    html = (await served.http.get("/tasks")).text
    assert "square" in html and "greet" in html and "required" in html
    bad = await served.http.post("/tasks/start", data={"task": "square", "input": "[1, 2]"})
    assert bad.status_code == 400 and "takes 1 arguments, got 2" in bad.text
    assert "[1, 2]</textarea>" in bad.text  # what was typed is kept
    for typed, words in [
        ("{nope", "not valid JSON"),
        ("5", "JSON array"),
        ("[NaN]", "NaN is not a JSON value"),
    ]:
        answer = await served.http.post("/tasks/start", data={"task": "square", "input": typed})
        assert answer.status_code == 400 and words in answer.text
    huge = await served.http.post("/tasks/start", data={"task": "square", "input": "x" * 300_000})
    assert huge.status_code == 400 and "larger than 256 KiB" in huge.text
    unknown = await served.http.post("/tasks/start", data={"task": "nope", "input": "[]"})
    assert unknown.status_code == 400 and "no registered task" in unknown.text
    assert served.core.runs == {}
    good = await served.http.post("/tasks/start", data={"task": "square", "input": "[4]"})
    assert good.status_code == 303
    run_id = good.headers["location"].rsplit("/", 1)[-1]
    assert served.core.runs[run_id].input == [4]


async def test_every_user_controlled_text_is_escaped(evil: Served) -> None:
    """Task names, parameter names and defaults, inputs, results, logs and errors."""
    core = evil.core
    task = core.tasks[1]
    run = await core.start_run(task, {XSS: XSS})
    child = core.add_child(run.id, task, [XSS])
    core.add_log(run.id, XSS)
    core.add_log(run.id, XSS, stream="stderr")
    core.finish(child.id, results=[XSS])
    failed = await core.start_run(task, [XSS])
    core.finish(failed.id, RunStatus.FAILED, error=XSS)
    pages = {
        "runs": (await evil.http.get("/")).text,
        "run": (await evil.http.get(f"/runs/{run.id}")).text,
        "child": (await evil.http.get(f"/runs/{child.id}")).text,
        "failed": (await evil.http.get(f"/runs/{failed.id}")).text,
        "tasks": (await evil.http.get("/tasks")).text,
        "filter": (await evil.http.get("/", params={"task": XSS})).text,
        "form": (await evil.http.post("/tasks/start", data={"task": XSS, "input": XSS})).text,
        "missing": (await evil.http.get("/runs/x<img src=x onerror=alert(2)>")).text,
    }
    for name, html in pages.items():
        assert_inert(html)
        assert XSS_ESCAPED in html or "&lt;img src=x onerror=alert(2)&gt;" in html, name
    # A path the pages do not serve gets the API's JSON error, which no browser renders as HTML.
    unserved = await evil.http.get("/runs/" + XSS)
    assert unserved.headers["content-type"] == "application/json"


async def test_the_change_stream_names_the_runs_that_changed(served: Served) -> None:
    core = served.core
    async with served.http.stream("GET", "/ui/changes") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.aiter_lines()
        assert await anext(lines) == "retry: 2000"  # sent once the stream watches the engine
        assert len(core.state_listeners) == 1
        run = await core.start_run(core.tasks[0], [1])
        child = core.add_child(run.id, core.tasks[0], [2])
        data = None
        async for line in lines:
            if line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
                break
        assert data is not None
        assert set(data["runs"]) == {run.id, child.id}
        assert data["roots"] == [run.id]
    for _ in range(3000):  # up to 30 s on a loaded machine
        if not core.state_listeners:
            break
        await asyncio.sleep(0.01)
    assert core.state_listeners == []  # the reader left: the stream let go of the engine


async def test_with_an_api_key_pages_need_the_login(secured: Served) -> None:
    http = secured.http
    answer = await http.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert (await http.get("/tasks")).status_code == 303
    assert (await http.get("/ui/changes")).status_code == 303
    assert (await http.post("/tasks/start", data={"task": "square"})).status_code == 401
    login = await http.get("/login")
    assert login.status_code == 200 and 'type="password"' in login.text
    assert (await http.get("/static/inspector.css")).status_code == 200
    wrong = await http.post("/login", data={"key": "nope"})
    assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    right = await http.post("/login", data={"key": "k-123"})
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "k-123" not in cookie
    for page in ["/", "/tasks"]:
        shown = await http.get(page)
        assert shown.status_code == 200
        assert "k-123" not in shown.text
    run = await secured.core.start_run(secured.core.tasks[0], [1])
    logs = await http.get("/v1/logs", params={"taskRunId": run.id})
    assert logs.status_code == 200  # the page's log tail reads the API with the cookie
    out = await http.post("/logout")
    assert out.status_code == 303
    assert (await http.get("/")).status_code == 303


async def test_a_cold_start_breakdown_shows_when_the_worker_reported_one(served: Served) -> None:
    from datetime import timedelta

    run = await served.core.start_run(served.core.tasks[0], [1])
    served.core.finish(run.id)
    attempt = served.core.runs[run.id].attempts[0]
    assert "Cold start" not in (await served.http.get(f"/runs/{run.id}")).text
    attempt.startup = {  # as GET /input's query leaves them on the attempt
        "sdk_import_started_at": attempt.started_at + timedelta(milliseconds=12),
        "sdk_import_finished_at": attempt.started_at + timedelta(milliseconds=92),
        "sdk_started_at": attempt.started_at + timedelta(milliseconds=122),
    }
    html = (await served.http.get(f"/runs/{run.id}")).text
    assert "Cold start: process start 12.0 ms, SDK import 80.0 ms, app start 30.0 ms" in html


async def test_the_change_stream_ends_when_the_engine_closes(served: Served) -> None:
    from render_sdk.engine.api import close_streams

    async with served.http.stream("GET", "/ui/changes") as answer:
        lines = answer.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        assert served.engine._served is not None
        close_streams(served.engine._served.app)
        rest = [line async for line in lines]  # the stream ends instead of waiting for changes
    assert all(not line.startswith("data:") for line in rest)
    assert served.core.state_listeners == []
