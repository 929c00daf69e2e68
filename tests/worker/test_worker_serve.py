"""Serve mode: many attempts in one pre-imported process (docs/protocol-extensions.md, 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.worker._platform import FakePlatform, Outcome, unb64
from tests.worker.conftest import run_worker, run_worker_unread

MARK = "\x1erender-sdk:end-of-attempt"


def test_several_attempts_in_one_process_until_410(platform: FakePlatform) -> None:
    platform.inputs.append((204, None))
    platform.add_run("remember", ["a"], attempt_id="att-1")
    platform.inputs.append((204, None))
    platform.add_run("fail", ["broken"], attempt_id="att-2")
    platform.add_run("remember", {"tag": "b"}, attempt_id="att-3")
    platform.add_run("square", [4], attempt_id="att-4")

    done = run_worker(platform, "serve")

    assert done.returncode == 0, done.stderr
    assert len(platform.calls("/input")) == 7  # 4 attempts, two 204s, the final 410
    callbacks = platform.calls("/callback")
    assert [c.header("Render-Attempt-Id") for c in callbacks] == [
        "att-1",
        "att-2",
        "att-3",
        "att-4",
    ]
    outcomes = [c.body for c in callbacks]
    assert unb64(outcomes[0]["complete"]["output"]) == [["a"]]
    assert outcomes[1]["error"]["details"] == "ValueError: broken"
    # The module was imported once: its state carried over from the first attempt.
    assert unb64(outcomes[2]["complete"]["output"]) == [["a", "b"]]
    assert unb64(outcomes[3]["complete"]["output"]) == [16]
    # GET /input belongs to no attempt.
    assert all(c.header("Render-Attempt-Id") is None for c in platform.calls("/input"))


def test_end_of_attempt_markers_follow_output_not_yet_read(platform: FakePlatform) -> None:
    platform.add_run("square", [2], attempt_id="a1")
    platform.add_run("square", [3], attempt_id="a2")

    done = run_worker_unread(platform, "serve")

    assert done.returncode == 0, done.stderr
    # split("\n"), not splitlines(): the latter also splits at the marker's \x1e.
    lines = done.stdout.split("\n")[:-1]
    assert lines == ["squaring 2", f"{MARK} a1", "squaring 3", f"{MARK} a2"]
    err = [line for line in done.stderr.split("\n") if line.startswith((MARK, "INFO"))]
    assert err == ["INFO square log 2", f"{MARK} a1", "INFO square log 3", f"{MARK} a2"]
    # Output still unread when the attempt ended: the callback does not claim it was read.
    assert [c.header("Render-Output") for c in platform.calls("/callback")] == [None, None]


DRAINED_CHECK = """
import os, sys
from render_sdk.workflows._worker import _output_drained
read_end, write_end = os.pipe()
os.dup2(write_end, 1)
os.dup2(write_end, 2)
results = [_output_drained()]           # empty pipes: drained
os.write(1, b"some output\\n")
results.append(_output_drained())       # unread bytes on stdout
os.read(read_end, 100)
results.append(_output_drained())       # read to the end again
os.write(2, b"x")
results.append(_output_drained())       # unread bytes on stderr
os.read(read_end, 100)
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
os.dup2(log, 1)
results.append(_output_drained())       # stdout is a file, not a pipe: cannot tell
os.write(log, repr(results).encode())
"""


def test_output_counts_as_drained_only_when_both_pipes_were_read(tmp_path: Path) -> None:
    out = tmp_path / "result.txt"
    subprocess.run([sys.executable, "-c", DRAINED_CHECK, str(out)], check=True, timeout=60)
    assert out.read_text().endswith("[True, False, True, False, False]")


def test_subtask_calls_carry_their_attempts_id(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(value=value[0] ** 2)
    platform.add_run("sync_parent", [2], attempt_id="first")
    platform.add_run("sum_squares", [3], attempt_id="second")

    done = run_worker(platform, "serve")

    assert done.returncode == 0, done.stderr
    starts = platform.calls("/run-subtask")
    polls = platform.calls("/get-subtask-result")
    assert [s.header("Render-Attempt-Id") for s in starts] == [
        "first",
        "second",
        "second",
        "second",
    ]
    assert [p.header("Render-Attempt-Id") for p in polls] == ["first", "second", "second", "second"]
    results = [unb64(c.body["complete"]["output"]) for c in platform.calls("/callback")]
    assert results == [[5], [5]]


def test_a_refused_callback_409_moves_on_to_the_next_attempt(platform: FakePlatform) -> None:
    platform.callback_status = 409
    platform.add_run("square", [2], attempt_id="stale")
    platform.add_run("square", [3], attempt_id="next")

    done = run_worker(platform, "serve")

    assert done.returncode == 0, done.stderr
    assert [c.header("Render-Attempt-Id") for c in platform.calls("/callback")] == [
        "stale",
        "next",
    ]


def test_each_callback_asks_for_the_next_input_in_the_same_exchange(
    platform: FakePlatform,
) -> None:
    platform.next_input = True
    platform.add_run("square", [2], attempt_id="a1")
    platform.add_run("square", [3], attempt_id="a2")
    platform.inputs.append((204, None))  # no work yet: the worker asks with GET /input
    platform.add_run("square", [4], attempt_id="a3")

    done = run_worker(platform, "serve")

    assert done.returncode == 0, done.stderr
    callbacks = platform.calls("/callback")
    assert all(c.header("Render-Next-Input") == "1" for c in callbacks)
    assert [c.header("Render-Attempt-Id") for c in callbacks] == ["a1", "a2", "a3"]
    assert [unb64(c.body["complete"]["output"]) for c in callbacks] == [[4], [9], [16]]
    # GET /input only for the first attempt and after the 204; the 410 came with a callback.
    assert [r.path for r in platform.requests] == [
        "/input",
        "/callback",
        "/callback",
        "/input",
        "/callback",
    ]


def test_a_callback_answer_without_the_next_input_falls_back_to_get_input(
    platform: FakePlatform,
) -> None:
    platform.add_run("square", [2], attempt_id="a1")
    platform.add_run("square", [3], attempt_id="a2")

    done = run_worker(platform, "serve")

    assert done.returncode == 0, done.stderr
    assert [r.path for r in platform.requests] == [
        "/input",
        "/callback",
        "/input",
        "/callback",
        "/input",
    ]
