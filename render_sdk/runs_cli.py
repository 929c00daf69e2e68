"""``render-workflows runs``: the runs of any engine, in a terminal, through this SDK's client.

    render-workflows runs                      the newest runs (same as ``runs list``)
    render-workflows runs list --task square --limit 50
    render-workflows runs show trn-...         input, result or error, every attempt and why
    render-workflows runs logs trn-... -f      its output, followed until it ends
    render-workflows runs cancel trn-...
    render-workflows runs tail                 new runs and state changes as they happen (the
                                               local engine's change stream; else it polls)

The engine is ``--url`` (default: ``RENDER_LOCAL_DEV_URL``, else http://127.0.0.1:8120, the
local engine); Render's API is ``--url https://api.render.com`` with ``RENDER_API_KEY`` or
``--api-key``. Errors: one line on stderr, exit status 1 (2 for a bad command line).

Why attempts ended comes from the engine's reasons (``/ui/runs/{id}/reasons`` of the local
engine, the same the pages and the console show); Render's API keeps none, so against it the
status and the error say it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Generator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from render_sdk.client import Render
    from render_sdk.client.types import LogEntry, TaskRun, TaskRunDetails
    from render_sdk.engine.reasons import Why

PROG = "render-workflows runs"
DEFAULT_URL = "http://127.0.0.1:8120"
POLL_SECONDS = 1.0
# The engine's change stream sends a comment every 15 s when nothing changes; this long without
# a byte, the engine is taken for gone and ``tail`` polls instead.
CHANGES_QUIET_SECONDS = 60.0


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="List, inspect, follow and cancel the runs of a Render Workflows engine.",
    )
    _connection_options(parser, None)
    # The same options after the command (``runs list --url ...``); there they win.
    common = _Parser(add_help=False)
    _connection_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add = commands.add_parser

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return add(name, parents=[common], **kwargs)

    listing = command("list", help="the newest runs")
    listing.add_argument("--task", metavar="NAME", help="only runs of this task")
    listing.add_argument("--root", metavar="ID", help="only runs of this run's tree")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help="1 to 100 (20)")
    listing.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = command("show", help="one run: input, result, error, attempts")
    show.add_argument("run_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="the run's details as JSON")
    logs = command("logs", help="what a run wrote to stdout and stderr")
    logs.add_argument("run_id", metavar="ID")
    logs.add_argument("-f", "--follow", action="store_true", help="follow until the run ends")
    cancel = command("cancel", help="cancel a run and its subtasks")
    cancel.add_argument("run_id", metavar="ID")
    tail = command("tail", help="new runs and state changes as they happen")
    tail.add_argument("--task", metavar="NAME", help="only runs of this task")
    return parser


def _connection_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--url",
        default=default,
        metavar="URL",
        help=f"the engine (default: RENDER_LOCAL_DEV_URL, else {DEFAULT_URL}); "
        "https://api.render.com for Render's API",
    )
    parser.add_argument(
        "--api-key",
        default=default,
        metavar="KEY",
        help="API key (default: RENDER_API_KEY, if set)",
    )


def _url(args: argparse.Namespace) -> str:
    url: str = args.url or os.environ.get("RENDER_LOCAL_DEV_URL") or DEFAULT_URL
    return url


def _key(args: argparse.Namespace) -> str | None:
    return args.api_key or os.environ.get("RENDER_API_KEY") or None


def _client(args: argparse.Namespace) -> Render:
    from render_sdk.client import Render

    return Render(token=_key(args), base_url=_url(args))


def _clock(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime("%H:%M:%S")


def _took(run: TaskRun) -> str:
    from render_sdk.engine.reasons import duration_ms, format_ms

    return format_ms(duration_ms(run.started_at, run.completed_at)) or "-"


class Runs:
    """The subcommands, writing to ``out``."""

    def __init__(
        self,
        render: Render,
        url: str,
        out: TextIO,
        sleep: Callable[[float], None],
        api_key: str | None = None,
    ) -> None:
        self.render = render
        self.url = url.rstrip("/")
        self.out = out
        self.sleep = sleep
        self.api_key = api_key
        self._names: dict[str, str] = {}
        self._has_reasons = True  # until the engine says it keeps none (Render's API)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def reasons(self, run_id: str) -> dict[str, Any] | None:
        """The engine's reasons for the run and its attempts (``/ui/runs/{id}/reasons``), or
        None from an engine that keeps none."""
        import urllib.parse

        import httpx

        if not self._has_reasons:
            return None
        try:
            answer = httpx.get(
                f"{self.url}/ui/runs/{urllib.parse.quote(run_id, safe='')}/reasons",
                headers=self._auth(),
                timeout=10.0,
            )
        except httpx.HTTPError:
            return None
        if answer.status_code != 200 or "json" not in answer.headers.get("content-type", ""):
            self._has_reasons = answer.status_code >= 500
            return None
        found: dict[str, Any] = answer.json()
        return found

    def why(self, run: TaskRunDetails, reasons: dict[str, Any] | None, number: int) -> Why:
        """Why attempt ``number`` (1-based) of ``run`` ended, in the pages' words."""
        from render_sdk.engine.reasons import describe

        attempt = run.attempts[number - 1]
        kept = (reasons or {}).get("attempts") or []
        item = kept[number - 1] if len(kept) >= number else {}
        return describe(
            attempt.status.value, item.get("reason"), item.get("reasonDetail"), attempt.error
        )

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def task_name(self, task_id: str) -> str:
        """The task's name (runs carry only its id); its id when the engine does not say."""
        if task_id not in self._names:
            cursor: str | None = None
            while True:
                page = self.render.workflows.list_tasks(limit=100, cursor=cursor)
                for task in page:
                    self._names[task.id] = task.name
                cursor = page.next_cursor
                if not cursor:
                    break
            self._names.setdefault(task_id, task_id)
        return self._names[task_id]

    def list(self, args: argparse.Namespace) -> int:
        from render_sdk.client import ListTaskRunsParams

        if not 1 <= args.limit <= 100:
            raise UsageError(f"--limit must be from 1 to 100, got {args.limit}")
        params = ListTaskRunsParams(
            limit=args.limit,
            cursor=args.cursor,
            task_slug=args.task,
            root_task_run_id=args.root,
        )
        page = self.render.workflows.list_task_runs(params)
        if args.json:
            for run in page:
                self.say(json.dumps(_run_json(run, self.task_name(run.task_id))))
            return 0
        if not page:
            self.say("no runs")
            return 0
        rows = [("TASK", "RUN", "STATUS", "STARTED", "TOOK", "ATTEMPTS", "KIND")]
        for run in page:
            rows.append(
                (
                    self.task_name(run.task_id),
                    run.id,
                    run.status.value,
                    _clock(run.started_at),
                    _took(run),
                    str(len(run.attempts)),
                    "subtask" if run.parent_task_run_id else "root",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.say(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        if page.next_cursor:
            self.say(f"more: {PROG} list --cursor {page.next_cursor}")
        return 0

    def show(self, args: argparse.Namespace) -> int:
        from render_sdk.engine.reasons import duration_ms, format_ms

        run = self.render.workflows.get_task_run(args.run_id)
        if args.json:
            self.say(json.dumps(_run_json(run, self.task_name(run.task_id)), indent=2))
            return 0
        self.say(f"{self.task_name(run.task_id)} {run.id}: {run.status.value}")
        if run.parent_task_run_id:
            self.say(f"  subtask of {run.parent_task_run_id} (root {run.root_task_run_id})")
        self.say(f"  started {_stamp(run.started_at)}, ended {_stamp(run.completed_at)}")
        self.say(f"  input  {json.dumps(run.input)}")
        if run.status.value == "completed":
            self.say(f"  result {json.dumps(run.result)}")
        reasons = self.reasons(run.id) if run.attempts else None
        for number, attempt in enumerate(run.attempts, 1):
            why = self.why(run, reasons, number)
            took = format_ms(duration_ms(attempt.started_at, attempt.completed_at))
            self.say(f"  attempt {number}: {why.label}" + (f" ({took})" if took else ""))
        if run.error:
            self.say("  error:")
            for line in run.error.rstrip("\n").split("\n"):
                self.say(f"    {line}")
        return 0

    def logs(self, args: argparse.Namespace) -> int:
        base: str | None = None  # the cursor after the last full page
        shown = 0  # lines shown after ``base``
        while True:
            page = self.render.workflows.get_logs(args.run_id, limit=100, cursor=base)
            for entry in page[shown:]:
                self.say(_log_line(entry))
            if len(page) == 100 and page.next_cursor:
                base, shown = page.next_cursor, 0
                continue
            shown = len(page)
            if not args.follow:
                if page.truncated:
                    self.say("(the engine stopped keeping this run's output at its limit)")
                return 0
            if self.render.workflows.get_task_run(args.run_id).is_terminal:
                # One last read: lines written just before the end.
                last = self.render.workflows.get_logs(args.run_id, limit=100, cursor=base)
                for entry in last[shown:]:
                    self.say(_log_line(entry))
                return 0
            self.sleep(POLL_SECONDS)

    def cancel(self, args: argparse.Namespace) -> int:
        self.render.workflows.cancel_task_run(args.run_id)
        self.say(f"canceled {args.run_id} and its subtasks")
        return 0

    def tail(self, args: argparse.Namespace, rounds: int | None = None) -> int:
        """Print each new run and each change of status or attempt of the newest runs: read
        again whenever the local engine's change stream (``/ui/changes``) says something
        changed, else (Render's API, or a stream that broke) every POLL_SECONDS. ``rounds``:
        stop after that many reads (None: until Ctrl-C)."""
        seen: dict[str, tuple[str, int]] = {}
        changes = self.changes()  # opened first: nothing that changes after the first read is lost
        self._tail_round(args, seen, first=True)
        how = "as they change" if changes is not None else f"every {POLL_SECONDS:g} s"
        self.say(f"following the runs of {self.url}, {how} (Ctrl-C stops)")
        done = 1
        if changes is not None:
            for _ in changes:
                if rounds is not None and done >= rounds:
                    changes.close()
                    return 0
                self._tail_round(args, seen, first=False)
                done += 1
        while rounds is None or done < rounds:
            self.sleep(POLL_SECONDS)
            self._tail_round(args, seen, first=False)
            done += 1
        return 0

    def changes(self) -> Generator[None, None, None] | None:
        """The engine's change stream: yields once per event (some runs changed) and ends
        when the stream does; None from an engine without one (Render's API)."""
        import httpx

        client = httpx.Client(timeout=httpx.Timeout(10.0, read=CHANGES_QUIET_SECONDS))
        headers = {**self._auth(), "Accept": "text/event-stream"}
        try:
            answer = client.send(
                client.build_request("GET", f"{self.url}/ui/changes", headers=headers),
                stream=True,
            )
        except httpx.HTTPError:
            client.close()
            return None
        lines = answer.iter_lines()
        try:
            # The stream's first line comes once the engine watches for changes.
            ready = answer.status_code == 200 and answer.headers.get("content-type", "").startswith(
                "text/event-stream"
            )
            ready = ready and next(lines, None) is not None
        except httpx.HTTPError:
            ready = False
        if not ready:
            answer.close()
            client.close()
            return None

        def events() -> Generator[None, None, None]:
            try:
                for line in lines:
                    if line.startswith("data:"):
                        yield None
            except httpx.HTTPError:
                return  # the engine went away or fell silent: the caller polls on
            finally:
                answer.close()
                client.close()

        return events()

    def _tail_round(
        self, args: argparse.Namespace, seen: dict[str, tuple[str, int]], first: bool
    ) -> None:
        """Read the newest runs once; print what changed since the last read (nothing on the
        first: it only learns the state)."""
        from render_sdk.client import ListTaskRunsParams

        page = self.render.workflows.list_task_runs(
            ListTaskRunsParams(limit=100, task_slug=args.task)
        )
        for run in reversed(page):
            state = (run.status.value, len(run.attempts))
            if seen.get(run.id) == state:
                continue
            known = run.id in seen
            seen[run.id] = state
            if first:
                continue
            line = f"{_clock(datetime.now(timezone.utc))} {self.task_name(run.task_id)} {run.id}"
            detail = state[0]
            if run.status.value == "running":
                detail = f"running (attempt {len(run.attempts)})"
            elif run.attempts and run.status.value in ("failed", "pending", "canceled"):
                details = self.render.workflows.get_task_run(run.id)
                reasons = self.reasons(run.id)
                why = self.why(details, reasons, len(details.attempts))
                if run.status.value == "pending":
                    detail = f"retrying: attempt {len(run.attempts)} {why.label}"
                elif run.status.value == "failed":
                    detail = f"failed: {_run_why(details, reasons, why).after_failed}"
                else:
                    detail = _run_why(details, reasons, why).label
            elif run.status.value == "completed":
                detail = f"completed in {_took(run)}"
            elif not known and run.parent_task_run_id:
                detail += f" (subtask of {run.parent_task_run_id})"
            self.say(f"{line} {detail}")


def _run_why(run: TaskRunDetails, reasons: dict[str, Any] | None, last: Why) -> Why:
    """Why the terminal ``run`` ended: the engine's reason for the run, else its last
    attempt's."""
    from render_sdk.engine.reasons import describe

    if reasons is None or reasons.get("reason") is None:
        return last
    return describe(run.status.value, reasons["reason"], reasons.get("reasonDetail"), run.error)


def _log_line(entry: LogEntry) -> str:
    """``12:02:34 #1 out squaring 7``: time, attempt, stream, the line."""
    stream = "err" if entry.stream == "stderr" else "out"
    return f"{_clock(entry.timestamp)} #{entry.attempt} {stream} {entry.message}"


def _stamp(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat() if value else "-"


def _run_json(run: TaskRun | TaskRunDetails, task_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": run.id,
        "task": task_name,
        "taskId": run.task_id,
        "status": run.status.value,
        "parentTaskRunId": run.parent_task_run_id,
        "rootTaskRunId": run.root_task_run_id,
        "attempts": len(run.attempts),
        "startedAt": _stamp(run.started_at) if run.started_at else None,
        "completedAt": _stamp(run.completed_at) if run.completed_at else None,
    }
    for name in ("input", "results", "error"):
        if hasattr(run, name):
            out[name] = getattr(run, name)
    return out


def main(
    argv: list[str],
    *,
    out: TextIO | None = None,
    render: Render | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``render-workflows runs`` with ``argv`` (the words after ``runs``); the exit status."""
    from render_sdk.client.errors import RenderError

    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        command = args.command or "list"
        if args.command is None:
            args = build_parser().parse_args([*argv, "list"])
        client = render or _client(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc} (see '{PROG} --help')", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    runs = Runs(client, _url(args), out, sleep, _key(args))
    try:
        with client:
            result: int = getattr(runs, command)(args)
            return result
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
