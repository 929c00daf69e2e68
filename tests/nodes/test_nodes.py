"""Several engine nodes on one PostgreSQL database: real ``render-workflows dev`` processes, real
workers, a real cluster (tests/pg.py). docs/engine.md, "Running several nodes".

The tasks (tests/e2e/apps/nodes_app.py) say which node ran them (each node's workers inherit
its ``NODE_NAME``) and record each attempt's start and end in a file per key, so the tests check
that work spread and that no run ran twice at the same time. Nothing here times anything: the
waits are for states, with generous deadlines.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.nodes._node import DEADLINE, Node, until
from tests.pg import PostgresCluster

pytestmark = [pytest.mark.nodes, pytest.mark.timeout(600)]


def attempts_of(records: Path, key: str) -> list[tuple[str, float, float | None]]:
    """(node, start, end or None) of each attempt recorded for ``key``, by process."""
    opened: dict[str, tuple[str, float, float | None]] = {}
    for line in (records / key).read_text().splitlines():
        what, node, pid, at = line.split()
        if what == "start":
            opened[pid] = (node, float(at), None)
        else:
            opened[pid] = (opened[pid][0], opened[pid][1], float(at))
    return sorted(opened.values(), key=lambda item: item[1])


def no_overlap(attempts: list[tuple[str, float, float | None]]) -> bool:
    """No attempt started before the one before it had ended (one that never ended overlaps
    everything after it)."""
    for before, after in itertools.pairwise(attempts):
        if before[2] is None or after[1] < before[2]:
            return False
    return True


def test_runs_started_on_one_node_run_on_the_others(nodes: Callable[..., Node]) -> None:
    a, b, c = nodes("a"), nodes("b"), nodes("c")
    ids = [a.start_run("where", f"k{i}", 0.3) for i in range(24)]
    results = [c.wait_done(run_id) for run_id in ids]  # read through another node
    assert [r["status"] for r in results] == ["completed"] * 24
    assert [r["results"][0][1] for r in results] == [f"k{i}" for i in range(24)]
    ran_on = {r["results"][0][0] for r in results}
    assert len(ran_on) >= 2 and ran_on <= {"a", "b", "c"}, ran_on
    listed = httpx.get(f"{b.url}/task-runs", params={"limit": 100}).json()
    assert {item["taskRun"]["id"] for item in listed} >= set(ids)  # any node lists every run


def test_a_node_alone_shares_its_queue_with_a_node_that_joins(
    nodes: Callable[..., Node],
) -> None:
    """A node alone keeps the runs waiting for its one slot queued as its own; a node that
    joins later takes its share of them, not only new work, and a stream of their ends opened
    on the first node before the join still hears every one."""
    a = nodes("a", concurrency=1)
    ids = [a.start_run("where", f"q{i}", 1.0) for i in range(24)]
    owners = asyncio.run(pending_owners(a.db))
    assert None not in owners and len(owners) == 1, owners  # held by a: no claims to write
    heard: list[str] = []
    with (
        httpx.Client(timeout=DEADLINE) as http,
        http.stream(
            "GET", f"{a.url}/task-runs/events", params={"taskRunIds": ",".join(ids)}
        ) as stream,
    ):
        assert stream.status_code == 200
        b = nodes("b")
        for line in stream.iter_lines():
            if line.startswith("data:"):
                heard.append(json.loads(line[len("data:") :])["id"])
                if len(heard) == len(ids):
                    break
    assert sorted(heard) == sorted(ids)
    results = [b.wait_done(run_id) for run_id in ids]
    assert [r["status"] for r in results] == ["completed"] * 24
    ran_on = [r["results"][0][0] for r in results]
    assert ran_on.count("b") >= 3, ran_on  # a alone would take 24 s for them all


async def pending_owners(db: str) -> set[str | None]:
    """The owners of the pending runs in the database."""
    conn = await asyncpg.connect(db)
    try:
        rows = await conn.fetch("SELECT owner FROM render_workflows.runs WHERE status = 'pending'")
    finally:
        await conn.close()
    return {row[0] for row in rows}


def test_fan_out_spreads_subtasks_across_nodes(nodes: Callable[..., Node]) -> None:
    a, _, _ = nodes("a"), nodes("b"), nodes("c")
    root = a.start_run("spread", "fan", 12, 0.3)
    done = a.wait_done(root)
    assert done["status"] == "completed", done
    children = done["results"][0]
    assert sorted(key for _, key in children) == sorted(f"fan-{i}" for i in range(12))
    assert len({node for node, _ in children}) >= 2, children


def test_an_event_stream_and_a_waiting_start_on_one_node_wake_when_another_ends_the_run(
    nodes: Callable[..., Node],
) -> None:
    a = nodes("a", concurrency=1)
    nodes("b")
    busy = a.start_run("hold", "busy-a")  # a's one slot is taken: new runs go to b
    until(lambda: a.get(busy)["status"] == "running", "a's slot to be taken", a.output)
    with httpx.Client(timeout=DEADLINE) as http:
        held = http.post(
            f"{a.url}/task-runs",
            json={"task": "where", "input": ["waited", 0.5]},
            headers={"Prefer": "wait=60"},
        )
    assert held.status_code in (200, 202), held.text
    body = held.json()
    run_id = body["id"]
    if body.get("status") != "completed":  # the head went out first: the body follows
        body = a.wait_done(run_id)
    assert body["status"] == "completed" and body["results"] == [["b", "waited"]], body
    other = a.start_run("where", "streamed", 0.5)
    with (
        httpx.Client(timeout=DEADLINE) as http,
        http.stream("GET", f"{a.url}/task-runs/events", params={"taskRunIds": other}) as stream,
    ):
        assert stream.status_code == 200
        data = next(line for line in stream.iter_lines() if line.startswith("data:"))
    event = json.loads(data[len("data:") :])
    assert event["id"] == other and event["status"] == "completed"
    assert a.get(other)["results"] == [["b", "streamed"]]
    assert httpx.delete(f"{a.url}/task-runs/{busy}", timeout=DEADLINE).status_code == 204


def test_a_cancel_on_one_node_stops_the_process_on_another(
    nodes: Callable[..., Node], tmp_path: Path
) -> None:
    a, b = nodes("a"), nodes("b")
    run_id = b.start_run("hold", "held")  # b has a free slot: b runs it
    pid_file = tmp_path / "records" / "held.pid"
    until(pid_file.exists, "the task to start on b", b.output)
    pid = int(pid_file.read_text())
    answer = httpx.delete(f"{a.url}/task-runs/{run_id}", timeout=DEADLINE)
    assert answer.status_code in (200, 204), answer.text
    done = a.wait_done(run_id)
    assert done["status"] == "canceled"
    until(lambda: not _alive(pid), "b's worker process to be stopped", b.output)


def test_a_cancel_reaches_a_subtree_spread_over_nodes(
    nodes: Callable[..., Node], tmp_path: Path
) -> None:
    a, b, c = nodes("a"), nodes("b", concurrency=3), nodes("c", concurrency=3)
    root = a.start_run("hold_tree", "tree", 4)  # a's other slot and b and c take the children
    records = tmp_path / "records"
    pids = [records / f"tree-{i}.pid" for i in range(4)]
    until(lambda: all(p.exists() for p in pids), "the 4 children to start", a.output)
    answer = httpx.delete(f"{c.url}/task-runs/{root}", timeout=DEADLINE)
    assert answer.status_code == 204, answer.text
    assert a.wait_done(root)["status"] == "canceled"
    tree = httpx.get(f"{b.url}/task-runs", params={"rootTaskRunId": root, "limit": 100}).json()
    children = [item["taskRun"] for item in tree if item["taskRun"]["id"] != root]
    assert len(children) == 4
    for child in children:
        done = b.wait_done(child["id"])
        assert done["status"] == "canceled"
        assert done["error"] == f"canceled: ancestor run {root} was canceled", done
    for pid_file in pids:
        pid = int(pid_file.read_text())
        until(lambda pid=pid: not _alive(pid), f"child process {pid} to be stopped", a.output)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_a_node_killed_mid_load_loses_nothing_and_runs_nothing_twice_at_once(
    nodes: Callable[..., Node], tmp_path: Path
) -> None:
    records = tmp_path / "records"
    a, b, c = nodes("a"), nodes("b"), nodes("c")
    keys = [f"r{i}" for i in range(30)]
    ids = {key: [a, b, c][i % 3].start_run("where", key, 1.0) for i, key in enumerate(keys)}

    def b_is_running() -> bool:
        for key in keys:
            lines = (records / key).read_text() if (records / key).exists() else ""
            if lines.startswith("start b ") and "end" not in lines:
                return True
        return False

    until(b_is_running, "b to be running something", b.output)
    b.kill()  # SIGKILL, mid-attempt
    for key, run_id in ids.items():
        done = a.wait_done(run_id)
        assert done["status"] == "completed", (key, done, a.output()[-2000:])
        assert done["results"][0][1] == key
        assert done["retries"] == 0  # an interrupted attempt spends no retry
        attempts = attempts_of(records, key)
        assert no_overlap(attempts), (key, attempts)
        if len(done["attempts"]) > 1:  # interrupted on b, run again elsewhere
            assert done["results"][0][0] in ("a", "c")
            first = done["attempts"][0]
            assert first["status"] == "failed" and "interrupted" in first["error"], first
    rerun = [key for key in keys if len(attempts_of(records, key)) > 1]
    assert rerun and all(attempts_of(records, key)[0][0] == "b" for key in rerun), rerun


def test_nodes_ride_out_a_database_restart_and_a_node_restart(
    nodes: Callable[..., Node], postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    a, b = nodes("a"), nodes("b")
    ids = {f"d{i}": [a, b][i % 2].start_run("where", f"d{i}", 0.5) for i in range(16)}
    postgres_cluster.restart()  # under load: runs are running and queued meanwhile
    ids.update({f"e{i}": [a, b][i % 2].start_run("where", f"e{i}", 0.2) for i in range(6)})
    b.stop()  # a clean stop: its runs are freed at once ...
    again = nodes("b")  # ... and a node started again takes its share
    ids.update({f"f{i}": again.start_run("where", f"f{i}", 0.2) for i in range(6)})
    for key, run_id in ids.items():
        done = a.wait_done(run_id)
        assert done["status"] == "completed" and done["results"][0][1] == key, (key, done)
        assert done["retries"] == 0
    # a, up all along, said what happened and that it goes on.
    until(
        lambda: "listening for other nodes' news again" in a.output(), "a to listen again", a.output
    )
    assert "the connection that listens for other nodes' news was lost" in a.output()
