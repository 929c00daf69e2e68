"""``render-workflows runs``: this SDK's client against a served engine (fake core, real HTTP)."""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from render_sdk.cli import main as cli_main
from render_sdk.engine.embedded import LocalEngine
from render_sdk.engine.records import ReasonCode, RunStatus
from render_sdk.runs_cli import Runs, main

from .fake_core import FakeCore


@pytest.fixture
def engine() -> Iterator[tuple[LocalEngine, FakeCore]]:
    core = FakeCore()
    with LocalEngine(core=core) as served:
        yield served, core


def run(engine: LocalEngine, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["--url", engine.base_url, *argv], out=out)
    return status, out.getvalue()


def test_list_names_the_task_of_each_run(engine: tuple[LocalEngine, FakeCore]) -> None:
    served, core = engine
    first = served.call(core.start_run, core.tasks[0], [1])
    child = served.call(core.add_child, first.id, core.tasks[1], {"name": "x"})
    served.call(core.finish, child.id)
    status, out = run(served)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["TASK", "RUN", "STATUS", "STARTED", "TOOK", "ATTEMPTS", "KIND"]
    assert lines[1].split()[:3] == ["greet", child.id, "completed"]
    assert lines[1].split()[-1] == "subtask"
    assert lines[2].split()[:3] == ["square", first.id, "pending"]
    status, out = run(served, "list", "--json", "--task", "square")
    assert status == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [first.id]
    assert json.loads(out)["task"] == "square"


def test_show_says_why_each_attempt_ended(engine: tuple[LocalEngine, FakeCore]) -> None:
    served, core = engine
    failed = served.call(core.start_run, core.tasks[0], [1])
    crash = "worker process ended without a callback (signal SIGKILL)"
    served.call(
        core.finish, failed.id, RunStatus.FAILED, None, crash, ReasonCode.CRASHED, "signal SIGKILL"
    )
    status, out = run(served, "show", failed.id)
    assert status == 0
    assert f"square {failed.id}: failed" in out
    assert "input  [1]" in out
    assert "attempt 1: crashed (signal SIGKILL)" in out  # the engine's reason, as on the pages
    done = served.call(core.start_run, core.tasks[0], [3])
    served.call(core.finish, done.id, RunStatus.COMPLETED, [9])
    status, out = run(served, "show", done.id)
    assert "result 9" in out and "attempt 1: completed" in out
    status, out = run(served, "show", "--json", done.id)
    assert json.loads(out)["results"] == [9]


def test_logs_and_follow(engine: tuple[LocalEngine, FakeCore]) -> None:
    served, core = engine
    started = served.call(core.start_run, core.tasks[0], [1])
    served.call(core.begin, started.id)
    for i in range(150):
        served.call(core.add_log, started.id, f"line {i}")
    status, out = run(served, "logs", started.id)
    assert status == 0
    assert [line.split(" ", 3)[3] for line in out.splitlines()] == [f"line {i}" for i in range(150)]
    # Following: lines written later show up once, and it ends with the run.
    out_buffer = io.StringIO()

    def later(_: float) -> None:
        served.call(core.add_log, started.id, "after", "stderr")
        served.call(core.finish, started.id)

    from render_sdk.client import Render

    with Render(base_url=served.base_url) as render:
        runs = Runs(render, served.base_url, out_buffer, later)
        assert runs.logs(argparse.Namespace(run_id=started.id, follow=True)) == 0
    followed = out_buffer.getvalue().splitlines()
    assert len(followed) == 151
    assert followed[-1].endswith("#1 err after")


def test_cancel(engine: tuple[LocalEngine, FakeCore]) -> None:
    served, core = engine
    started = served.call(core.start_run, core.tasks[0], [1])
    status, out = run(served, "cancel", started.id)
    assert status == 0 and "canceled" in out
    assert core.runs[started.id].status is RunStatus.CANCELED
    status, _ = run(served, "cancel", started.id)
    assert status == 1


def test_without_the_engines_reasons_the_status_and_error_say_it() -> None:
    """An engine that keeps no reasons (Render's API: no /ui/ endpoints) is asked once."""
    core = FakeCore()
    with LocalEngine(core=core, app_options={"pages": False}) as served:
        failed = served.call(core.start_run, core.tasks[0], [1])
        crash = "worker process ended without a callback (signal SIGKILL)"
        served.call(core.finish, failed.id, RunStatus.FAILED, None, crash, ReasonCode.CRASHED, "x")
        status, out = run(served, "show", failed.id)
    assert status == 0
    assert f"attempt 1: failed: {crash}" in out


def test_tail_polls_an_engine_without_a_change_stream() -> None:
    core = FakeCore()
    with LocalEngine(core=core, app_options={"pages": False}) as served:
        served.call(core.start_run, core.tasks[0], [0])  # before tail: not printed
        steps = iter(range(3))
        ids: list[str] = []

        def step(_: float) -> None:
            i = next(steps, None)
            if i == 0:
                ids.append(served.call(core.start_run, core.tasks[0], [1]).id)
            elif i == 1:
                served.call(core.begin, ids[0])
            elif i == 2:
                served.call(core.finish, ids[0], RunStatus.FAILED, None, "ValueError: bad input")

        out = io.StringIO()
        from render_sdk.client import Render

        with Render(base_url=served.base_url) as render:
            Runs(render, served.base_url, out, step).tail(argparse.Namespace(task=None), rounds=4)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("following the runs of http://127.0.0.1:")
    assert lines[0].endswith(", every 1 s (Ctrl-C stops)")
    assert [line.split(" ", 3)[3] for line in lines[1:]] == [
        "pending",
        "running (attempt 1)",
        "failed: ValueError: bad input",
    ]
    assert all(f"square {ids[0]}" in line for line in lines[1:])


class _Lines(io.StringIO):
    """What ``tail`` prints, line by line, for another thread to wait on; the line with
    ``last`` in it ends the tail."""

    class Done(Exception):
        pass

    def __init__(self, last: str) -> None:
        super().__init__()
        self.last = last
        self.changed = threading.Condition()

    def write(self, text: str) -> int:
        with self.changed:
            written = super().write(text)
            self.changed.notify_all()
        if self.last in text:
            raise self.Done
        return written

    def wait_for(self, words: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: words in self.getvalue(), timeout=60)


def test_tail_follows_the_local_engines_change_stream(engine: tuple[LocalEngine, FakeCore]) -> None:
    """Against the local engine, tail reads again when the engine says runs changed: it never
    sleeps to poll."""
    served, core = engine
    served.call(core.start_run, core.tasks[0], [0])  # before tail: not printed
    out = _Lines(last="failed:")
    slept: list[float] = []
    ended: list[BaseException] = []
    from render_sdk.client import Render

    def follow() -> None:
        with Render(base_url=served.base_url) as render:
            try:
                Runs(render, served.base_url, out, slept.append).tail(argparse.Namespace(task=None))
            except BaseException as exc:
                ended.append(exc)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    out.wait_for("as they change (Ctrl-C stops)")
    run_id = served.call(core.start_run, core.tasks[0], [1]).id
    out.wait_for(f"{run_id} pending")
    served.call(core.begin, run_id)
    out.wait_for(f"{run_id} running (attempt 1)")
    served.call(core.finish, run_id, RunStatus.FAILED, None, "ValueError: bad input")
    thread.join(timeout=60)
    assert not thread.is_alive() and len(ended) == 1 and isinstance(ended[0], _Lines.Done)
    assert slept == []
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 3)[3] for line in lines[1:]] == [
        "pending",
        "running (attempt 1)",
        "failed: ValueError: bad input",
    ]


def test_an_engine_that_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status = cli_main(["runs", "--url", f"http://127.0.0.1:{port}", "list"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("render-workflows runs: error:")
    assert f"127.0.0.1:{port}" in err


def test_bad_command_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show"]) == 2
    assert "ID" in capsys.readouterr().err
    assert main(["list", "--limit", "0", "--url", "http://127.0.0.1:1"]) == 2
    assert "--limit must be from 1 to 100" in capsys.readouterr().err
