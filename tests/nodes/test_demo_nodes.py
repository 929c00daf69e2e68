"""examples/demo_nodes.py (``nox -s demo_nodes``, the README's way to try two nodes) end to end:
a real throwaway PostgreSQL cluster, two real ``render-workflows dev`` nodes, real clients.

The demo checks its own outcome (its exit status): every run's result, both nodes listing the
same runs, each run ended on exactly one node. These tests read what it prints, and check that
nothing is left behind (no node, no postgres process, no folder), after a normal end and after
Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo_nodes.py"
DEADLINE = 300.0  # seconds the demo may take on a loaded machine


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENDER_", "PYTEST_"))}
    if "RENDER_TEST_PG_BIN" in os.environ:
        env["RENDER_TEST_PG_BIN"] = os.environ["RENDER_TEST_PG_BIN"]
    return {**env, **extra}


def processes_mentioning(text: str) -> list[str]:
    """The command lines of the running processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        if text in command:
            found.append(command)
    return found


def left_behind(output: str) -> list[str]:
    """What the demo started and left running or on disk, from what it printed."""
    cluster = re.search(r"a throwaway cluster in (\S+)", output)
    assert cluster, output
    db = re.search(r"--db (postgresql://\S+)", output)
    assert db, output
    database = db.group(1).split("@")[1]  # 127.0.0.1:PORT/workflows
    left = [f"folder {cluster.group(1)}"] if Path(cluster.group(1)).exists() else []
    return left + processes_mentioning(cluster.group(1)) + processes_mentioning(database)


@pytest.mark.nodes
@pytest.mark.timeout(600)
def test_two_nodes_run_what_one_started_and_the_other_follows() -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=environment(),
        cwd=ROOT,
    )
    output = done.stdout
    assert done.returncode == 0, f"{output}\n{done.stderr}"
    assert re.search(r"sum_squares\(20\) +completed: 2470\n", output), output
    for i in range(1, 9):
        assert re.search(rf"square\({i}\) +completed: {i * i}\n", output), output
    assert re.search(r"runs listed by node 2 +29 \(the same runs: True\)", output), output
    # Each node says what it ran; together (the demo checks it) every run exactly once.
    ran = re.findall(r"node (\d) ran +(\d) of the 8 squares.*?(\d+) of its 20 subtasks", output)
    assert [number for number, _, _ in ran] == ["1", "2"], output
    assert sum(int(squares) for _, squares, _ in ran) == 8, output
    assert sum(int(subtasks) for _, _, subtasks in ran) == 20, output
    assert "== node 1's console" in output and "== node 2's console" in output, output
    assert "nodes stopped (exit status 0, 0)" in output, output
    assert "PostgreSQL stopped, its folder removed" in output, output
    assert left_behind(output) == []


@pytest.mark.nodes
@pytest.mark.timeout(600)
def test_ctrl_c_stops_both_nodes_and_removes_the_cluster(tmp_path: Path) -> None:
    log = tmp_path / "demo.out"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-u", str(DEMO)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment(),
            cwd=ROOT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        deadline = time.monotonic() + DEADLINE
        while "# node 2" not in log.read_text(errors="replace"):
            assert demo.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        assert demo.wait(timeout=DEADLINE) == 130, log.read_text(errors="replace")
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    output = log.read_text(errors="replace")
    assert "interrupted: stopping the nodes and the cluster" in output, output
    assert "PostgreSQL stopped, its folder removed" in output, output
    assert left_behind(output) == []


def test_without_postgresql_it_says_how_to_install_it_and_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(RENDER_TEST_PG_BIN=str(tmp_path)),  # a folder without initdb
        cwd=ROOT,
    )
    assert done.returncode == 2, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "apt-get install -y postgresql" in lines[0], done.stderr
