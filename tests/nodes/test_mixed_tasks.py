"""Nodes that define different tasks on one PostgreSQL database (a rolling upgrade): real
``render-workflows dev`` processes on a real cluster. docs/engine.md, "Running several nodes".

Node ``a`` runs tests/e2e/apps/nodes_app.py; node ``b`` runs its second version,
tests/e2e/apps/nodes_app_b.py: ``where`` and ``spread`` the same, ``only_b`` and ``ask_a`` only
on ``b``, ``hold_tree`` defined differently, ``hold`` and ``only_a`` only on ``a``. Each node
says how the other's tasks differ, a run (or subtask) of a task one node defines runs there
wherever it was started, and runs of the tasks both define still spread.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.nodes._node import Node, until

pytestmark = [pytest.mark.nodes, pytest.mark.timeout(600)]

B = "nodes_app_b:app"
DIFFERS = "defines other tasks than this node"
WHO = re.compile(r"node (nod-\w+) \(.*\) defines other tasks than this node \((nod-\w+)\)")


def reports(node: Node) -> list[str]:
    """The lines in which ``node`` said another node's tasks differ."""
    return [line for line in node.output().splitlines() if DIFFERS in line]


def test_nodes_with_different_tasks_say_how_and_each_runs_the_tasks_it_defines(
    nodes: Callable[..., Node],
) -> None:
    a = nodes("a")
    b = nodes("b", app=B)
    # b, joining, compares at once; a, already running, notices at its next sweep.
    until(lambda: bool(reports(b)), "b to report a's tasks", b.output)
    until(lambda: bool(reports(a)), "a to report b's tasks", a.output)
    (said_by_b,) = reports(b)
    assert "WARNING" in said_by_b
    assert (
        "only here: ask_a, only_b; only there: hold, only_a; defined differently: hold_tree"
        in said_by_b
    )
    (said_by_a,) = reports(a)
    assert (
        "only here: hold, only_a; only there: ask_a, only_b; defined differently: hold_tree"
        in said_by_a
    )
    found_by_a, found_by_b = (WHO.search(line) for line in (said_by_a, said_by_b))
    assert found_by_a is not None and found_by_b is not None
    assert found_by_a.groups() == tuple(reversed(found_by_b.groups()))  # (the other, itself)

    only_b = [a.start_run("only_b", f"ob{i}", 0.2) for i in range(6)]  # a does not define it
    shared = [a.start_run("where", f"w{i}", 0.3) for i in range(16)]
    for run_id in only_b:
        done = a.wait_done(run_id)
        assert done["status"] == "completed", done
        assert done["results"][0][0] == "b" and len(done["attempts"]) == 1, done
    ran_on = set()
    for run_id in shared:
        done = b.wait_done(run_id)
        assert done["status"] == "completed", done
        ran_on.add(done["results"][0][0])
    assert ran_on == {"a", "b"}, ran_on
    # ask_a, started on a, runs on b; its subtask only_a, started on b, runs on a.
    asked = a.wait_done(a.start_run("ask_a", "asked"))
    assert asked["status"] == "completed" and asked["results"] == [["b", "a", "asked"]], asked
    # Said once per node, however many sweeps went by meanwhile.
    assert len(reports(a)) == 1 and len(reports(b)) == 1


def test_runs_of_a_task_no_live_node_defines_wait_for_a_node_that_does(
    nodes: Callable[..., Node],
) -> None:
    a = nodes("a")
    b = nodes("b", concurrency=1, app=B)
    ids = [a.start_run("only_b", f"ob{i}", 0.5) for i in range(6)]
    until(lambda: b.get(ids[0])["status"] != "pending", "b to start only_b", b.output)
    b.stop()  # a clean stop: its runs are freed at once, and nobody left defines only_b
    waiting = "runs of task only_b are pending and no live node defines it"
    until(lambda: waiting in a.output(), "a to report the runs that wait", a.output)
    left = [run_id for run_id in ids if a.get(run_id)["status"] == "pending"]
    assert left, "b ran every run before it stopped"
    again = nodes("b2", app=B)  # a node that defines only_b: it takes them
    for run_id in ids:
        done = again.wait_done(run_id)
        assert done["status"] == "completed", done
        assert done["results"][0][0] in ("b", "b2"), done
    for run_id in left:
        assert a.get(run_id)["results"][0][0] == "b2"
