"""The run inspector: web pages served by the engine on its own port (docs/inspector.md).

    /              runs, newest first, live; filters and cursor paging
    /runs/{id}     one run: input, result, error, attempts, its tree and timeline, logs, cancel
    /tasks         registered tasks and a form to start a run
    /ui/runs/{id}/reasons   why the run and each attempt are where they are, as JSON (for
                   ``render-workflows runs``: the REST API's answers carry no reasons)

Pages are Jinja2 templates rendered on the server; htmx (vendored in ``static/``) swaps the parts
that change when the engine's state-change stream (``/ui/changes``) says so. Everything they
need ships in the package: no CDN, no build step. They read the engine through
:class:`~render_sdk.engine.interface.EngineCoreAPI` only, as the REST API does.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from render_sdk.engine import serialize
from render_sdk.engine.auth import SESSION_COOKIE, session_token
from render_sdk.engine.interface import EngineCoreAPI, RunFilter
from render_sdk.engine.reasons import (
    Why,
    attempt_reason,
    duration_ms,
    format_ms,
    run_reason,
    run_summary,
    startup_phases,
)
from render_sdk.engine.records import (
    Conflict,
    EngineError,
    InvalidRequest,
    NotFound,
    RunRecord,
    RunStatus,
    TaskRecord,
)

HERE = Path(__file__).parent
PAGE_SIZE = 50
TREE_LIMIT = 1000  # runs of one tree a run page shows at most
LOG_LINES = 100  # log lines a run page renders; the rest are fetched by the page
FORM_LIMIT = 256 * 1024
CHANGE_GAP = 0.25  # seconds between two events of a change stream, at least
STATUSES = [s.value for s in RunStatus]
#: Every page's Content-Security-Policy: nothing but this engine's own scripts, styles and
#: connections; no inline script or style, no frames, forms post to this engine only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a template says otherwise (none do)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ms"] = format_ms
    env.filters["clock"] = _clock
    env.filters["stamp"] = _stamp
    env.filters["pretty"] = _pretty
    env.globals["reason"] = attempt_reason
    env.globals["summary"] = run_summary
    env.globals["startup"] = startup_phases
    env.globals["took"] = lambda a, b: format_ms(duration_ms(a, b))
    return env


def _clock(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def _stamp(value: datetime | None) -> str:
    return serialize.timestamp(value) if value is not None else ""


def _pretty(value: Any) -> str:
    text = serialize.dumps(value).decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@dataclass
class TreeNode:
    run: RunRecord
    depth: int
    children: list[TreeNode] = field(default_factory=list)


@dataclass
class Bar:
    """A run's place on its tree's timeline, in thousandths of the whole."""

    x: int
    width: int


class Inspector:
    """The pages of one engine."""

    def __init__(
        self,
        core: EngineCoreAPI,
        closing: asyncio.Event,
        wakes: set[Callable[[], None]],
        api_key: str | None,
    ) -> None:
        self.core = core
        self.closing = closing
        self.wakes = wakes
        self.api_key = api_key
        self.env = _environment()

    # --- helpers ---------------------------------------------------------------------------
    def render(self, name: str, status: int = 200, **values: Any) -> Response:
        values.setdefault("auth", self.api_key is not None)
        body = self.env.get_template(name).render(**values)
        return Response(body, status_code=status, media_type="text/html", headers=PAGE_HEADERS)

    def _task_by_name(self, name: str) -> TaskRecord | None:
        for task in self.core.list_tasks():
            if task.name == name or task.id == name:
                return task
        return None

    async def _page_of_runs(
        self, run_filter: RunFilter, cursor: str | None
    ) -> tuple[list[RunRecord], str | None]:
        """Up to PAGE_SIZE matching runs after ``cursor`` and the cursor of the next page (None
        at the end); the engine applies every filter, so a page reads its own runs only."""
        items = await self.core.list_runs(run_filter, PAGE_SIZE + 1, cursor)
        runs = [rec for rec, _ in items[:PAGE_SIZE]]
        return runs, items[PAGE_SIZE - 1][1] if len(items) > PAGE_SIZE else None

    async def _tree(self, run: RunRecord) -> tuple[list[TreeNode], bool]:
        """The runs below ``run`` (itself first), depth-first, and whether the tree was cut."""
        records: list[RunRecord] = []
        cursor: str | None = None
        cut = False
        while True:
            items = await self.core.list_runs(RunFilter(root_run_id=run.root_id), 100, cursor)
            records.extend(rec for rec, _ in items)
            if len(items) < 100:
                break
            cursor = items[-1][1]
            if len(records) >= TREE_LIMIT:
                cut = True
                break
        by_parent: dict[str, list[RunRecord]] = {}
        for rec in records:
            by_parent.setdefault(rec.parent_id, []).append(rec)
        for children in by_parent.values():
            children.sort(key=lambda r: (r.created_at, r.id))
        out: list[TreeNode] = []

        def walk(rec: RunRecord, depth: int) -> None:
            out.append(TreeNode(rec, depth))
            for child in by_parent.get(rec.id, []):
                walk(child, depth + 1)

        walk(run, 0)
        return out, cut

    @staticmethod
    def _bars(nodes: list[TreeNode], now: datetime) -> list[Bar]:
        if not nodes:
            return []
        start = min(n.run.created_at for n in nodes)
        ends = [n.run.completed_at or now for n in nodes]
        total = max((end - start).total_seconds() for end in ends) or 1e-9
        bars = []
        for node, end in zip(nodes, ends, strict=True):
            begin = node.run.started_at or node.run.created_at
            x = int(1000 * (begin - start).total_seconds() / total)
            width = int(1000 * (end - begin).total_seconds() / total)
            bars.append(Bar(max(0, min(x, 998)), max(2, min(width, 1000 - x))))
        return bars

    # --- pages -----------------------------------------------------------------------------
    async def runs_page(self, request: Request) -> Response:
        params = request.query_params
        task_name = params.get("task") or None
        status = params.get("status") or None
        roots = params.get("roots") == "1"
        cursor = params.get("cursor") or None
        problem = None
        if status is not None and status not in STATUSES:
            problem, status = f"unknown status {status!r}: one of {', '.join(STATUSES)}", None
        task_id: str | None = None
        runs: list[RunRecord] = []
        next_cursor: str | None = None
        if task_name is not None:
            task = self._task_by_name(task_name)
            if task is None:
                problem = f"no registered task is named {task_name!r}"
            else:
                task_id = task.id
        if task_name is None or task_id is not None:
            run_filter = RunFilter(
                task_id=task_id,
                statuses=None if status is None else frozenset({RunStatus(status)}),
                roots_only=roots,
            )
            try:
                runs, next_cursor = await self._page_of_runs(run_filter, cursor)
            except EngineError as exc:
                problem = f"cannot list runs: {exc.message}"
        query = {"task": task_name or "", "status": status or "", "roots": "1" if roots else ""}
        next_url = None
        if next_cursor is not None:
            next_url = "/?" + urllib.parse.urlencode(
                {k: v for k, v in {**query, "cursor": next_cursor}.items() if v}
            )
        template = "_rows.html" if request.headers.get("hx-request") else "runs.html"
        return self.render(
            template,
            status=400 if problem else 200,
            page="runs",
            runs=runs,
            tasks=self.core.list_tasks(),
            statuses=STATUSES,
            query=query,
            first_page=cursor is None,
            next_url=next_url,
            problem=problem,
        )

    async def run_page(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            run = await self.core.get_run(run_id)
        except NotFound:
            return self.render(
                "error.html", status=404, page="run", message=f"no run has the id {run_id!r}"
            )
        return await self._run_view(request, run)

    async def _run_view(
        self, request: Request, run: RunRecord, status: int = 200, problem: str | None = None
    ) -> Response:
        nodes, cut = await self._tree(run)
        now = datetime.now(timezone.utc)
        bars = self._bars(nodes, now)
        lines, truncated = await self.core.get_logs(run.id, LOG_LINES, None)
        template = "_run_body.html" if request.headers.get("hx-request") else "run.html"
        return self.render(
            template,
            status=status,
            page="run",
            run=run,
            rows=list(zip(nodes, bars, strict=True)),
            cut=cut,
            tree_limit=TREE_LIMIT,
            lines=lines,
            more_logs=len(lines) == LOG_LINES,
            log_cursor=str(lines[-1].seq) if lines else "",
            truncated=truncated,
            problem=problem,
        )

    async def reasons(self, request: Request) -> Response:
        """Why the run and each of its attempts are where they are: the lifecycle's reason code,
        the fact its label names, and the label (engine/reasons.py)."""
        run = await self.core.get_run(request.path_params["run_id"])

        def item(code: Any, detail: str | None, why: Why) -> dict[str, Any]:
            return {
                "reason": None if code is None else code.value,
                "reasonDetail": detail,
                "label": why.label,
            }

        body = {
            "id": run.id,
            "status": run.status.value,
            **item(run.reason, run.reason_detail, run_reason(run)),
            "attempts": [
                {
                    "number": a.number,
                    "status": a.status.value,
                    **item(a.reason, a.reason_detail, attempt_reason(a)),
                }
                for a in run.attempts
            ],
        }
        return Response(
            json.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    async def cancel(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            await self.core.cancel_run(run_id)
        except NotFound:
            return self.render(
                "error.html", status=404, page="run", message=f"no run has the id {run_id!r}"
            )
        except Conflict as exc:
            run = await self.core.get_run(run_id)
            return await self._run_view(request, run, status=409, problem=exc.message)
        return RedirectResponse(f"/runs/{urllib.parse.quote(run_id)}", status_code=303)

    async def tasks_page(self, request: Request) -> Response:
        return self.render("tasks.html", page="tasks", tasks=self.core.list_tasks(), form=None)

    async def start(self, request: Request) -> Response:
        form = await _read_form(request)
        name = form.get("task", "")
        raw = form.get("input", "").strip() or "[]"
        task = self._task_by_name(name)
        problem: str | None = None
        if task is None:
            problem = f"no registered task is named {name!r}"
        else:
            try:
                value = json.loads(raw, parse_constant=_no_constant)
            except ValueError as exc:
                value, problem = None, f"the input is not valid JSON: {exc}"
            if problem is None and not isinstance(value, (list, dict)):
                problem = (
                    "the input must be a JSON array (positional arguments) or a JSON object "
                    "(named arguments)"
                )
            if problem is None:
                assert isinstance(value, (list, dict))
                try:
                    run = await self.core.start_run(task, value)
                except EngineError as exc:
                    problem = exc.message
                else:
                    return RedirectResponse(f"/runs/{urllib.parse.quote(run.id)}", status_code=303)
        return self.render(
            "tasks.html",
            status=400,
            page="tasks",
            tasks=self.core.list_tasks(),
            form={"task": name, "input": raw, "problem": problem},
        )

    async def changes(self, request: Request) -> Response:
        """Server-Sent Events: which runs (and trees) changed; a change after a quiet spell goes
        out at once, later ones gather for the rest of a quarter second (at most four events a
        second)."""
        return StreamingResponse(
            self._change_events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _change_events(self) -> AsyncIterator[bytes]:
        runs: dict[str, None] = {}
        roots: dict[str, None] = {}
        wake = asyncio.Event()

        def on_state(rec: RunRecord) -> None:
            if len(runs) < 500:
                runs[rec.id] = None
                roots[rec.root_id] = None
            wake.set()

        withdraw = self.core.watch_states(on_state)
        self.wakes.add(wake.set)  # the engine's close wakes the stream, which then ends
        loop = asyncio.get_running_loop()
        sent = -CHANGE_GAP
        try:
            yield b"retry: 2000\n\n"
            while not self.closing.is_set():
                try:
                    await asyncio.wait_for(wake.wait(), 15.0)
                except asyncio.TimeoutError:
                    yield b": ping\n\n"
                    continue
                if self.closing.is_set():
                    return
                rest = sent + CHANGE_GAP - loop.time()
                if rest > 0:
                    await asyncio.sleep(rest)  # changes that come meanwhile go out together
                    if self.closing.is_set():
                        return
                wake.clear()
                sent = loop.time()
                data = json.dumps({"runs": list(runs), "roots": list(roots)})
                runs.clear()
                roots.clear()
                yield f"data: {data}\n\n".encode()
        finally:
            withdraw()
            self.wakes.discard(wake.set)

    # --- signing in (engines with an API key) ------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        return self.render("login.html", page="login", problem=None)

    async def login(self, request: Request) -> Response:
        assert self.api_key is not None
        form = await _read_form(request)
        if not hmac.compare_digest(form.get("key", "").encode(), self.api_key.encode()):
            return self.render(
                "login.html", status=401, page="login", problem="that is not this engine's key"
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_token(self.api_key),
            httponly=True,
            samesite="strict",
            path="/",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


async def _read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (what the pages' forms send)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise InvalidRequest(f"the form is larger than {FORM_LIMIT // 1024} KiB")
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}


def inspector_routes(
    core: EngineCoreAPI,
    *,
    closing: asyncio.Event,
    wakes: set[Callable[[], None]],
    api_key: str | None,
    guard: Callable[[Callable[[Request], Any]], Callable[[Request], Any]],
) -> list[BaseRoute]:
    """The pages' routes; ``guard`` wraps each endpoint (error handling). Open change streams
    end once ``closing`` is set and the functions in ``wakes`` are called."""
    pages = Inspector(core, closing, wakes, api_key)
    routes: list[BaseRoute] = [
        Route("/", guard(pages.runs_page), methods=["GET"]),
        Route("/runs/{run_id}", guard(pages.run_page), methods=["GET"]),
        Route("/runs/{run_id}/cancel", guard(pages.cancel), methods=["POST"]),
        Route("/tasks", guard(pages.tasks_page), methods=["GET"]),
        Route("/tasks/start", guard(pages.start), methods=["POST"]),
        Route("/ui/changes", pages.changes, methods=["GET"]),
        Route("/ui/runs/{run_id}/reasons", guard(pages.reasons), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if api_key is not None:
        routes += [
            Route("/login", guard(pages.login_page), methods=["GET"]),
            Route("/login", guard(pages.login), methods=["POST"]),
            Route("/logout", guard(pages.logout), methods=["POST"]),
        ]
    return routes
