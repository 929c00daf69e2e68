"""Two engine nodes on one PostgreSQL database: runs started through one, followed through the
other.

    python examples/demo_nodes.py       (or: python3 -m nox -s demo_nodes)

It starts a throwaway PostgreSQL cluster (Debian's postgresql package: ``initdb`` and ``pg_ctl`` in
a temporary folder, on a free loopback port; tests/pgcluster.py), then two nodes on one database
of it, each ``render-workflows dev --db postgresql://... --port N main:app`` in examples/. A
``RenderAsync`` client starts a fan-out (``sum_squares``) and several ``square`` runs through
node 1; a second client follows them to their end through node 2's event stream. Each node's
console prints a line when a run it ran ends, so the consoles say which node ran which run. At
the end (also after Ctrl-C, SIGTERM or an error) both nodes are stopped, then the cluster, and
its folder is removed.

Exit status: 0 when every run ended as expected and both nodes stopped cleanly, 1 otherwise,
2 when PostgreSQL's server programs are not installed, 130 after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from demo import free_port, show  # examples/demo.py, beside this file

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
PROG = "demo_nodes"
FAN_OUT = 20  # sum_squares(20): 20 square subtasks
SQUARES = range(1, 9)  # square(1) .. square(8), started together
START_SECONDS = 120.0
# The console line of the node that ran a run, when the run ends: "12:00:00 square trn-...
# [(subtask of trn-...)] completed in 1.2 ms" (render_sdk/engine/reasons.py, console_line).
ENDED = re.compile(
    r"^\S+ \w+ (trn-\w+)(?: \(subtask of trn-\w+\))? (?:completed|failed|canceled)\b"
)


class Node:
    """One ``render-workflows dev`` process on the shared database, with its console in a file."""

    def __init__(self, number: int, db: str, folder: Path) -> None:
        self.number = number
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.console = folder / f"node-{number}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, db: str) -> list[str]:
        return ["render-workflows", "dev", "--db", db, "--port", str(self.port), "main:app"]

    def start(self) -> None:
        command = [sys.executable, "-m", "render_sdk.cli", *self.command(self.db)[1:]]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.console.open("wb") as out:
            # A session of its own: Ctrl-C reaches this script only, which stops the nodes.
            self.proc = subprocess.Popen(
                command,
                cwd=EXAMPLES,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Wait until GET /v1/tasks answers 200 (the engine's readiness signal)."""
        assert self.proc is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NodeFailed(
                    f"node {self.number} exited ({self.proc.returncode}) before it was ready:\n"
                    + self.output()[-3000:]
                )
            try:
                if httpx.get(f"{self.url}/v1/tasks", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise NodeFailed(f"node {self.number} was not ready within {START_SECONDS:g} s")

    def stop(self) -> int | None:
        """Stop the node as Ctrl-C would; its exit status (None if it never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.console.read_text(errors="replace") if self.console.exists() else ""

    def ran(self) -> set[str]:
        """The ids of the runs this node ran to their end (from its console)."""
        found = (ENDED.match(line) for line in self.output().splitlines())
        return {m.group(1) for m in found if m}


class NodeFailed(Exception):
    """A node exited or did not become ready; the message says which and shows its console."""


class Interrupts:
    """Ctrl-C and SIGTERM end the demo, once: the first raises KeyboardInterrupt and later ones
    are ignored, so that the clean-up runs to its end (nox forwards a second SIGINT). Inside
    ``held()``, which starts a process and keeps hold of it, the interrupt waits for its end: a
    process started but not yet recorded would be left running."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.ignore()
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @staticmethod
    def ignore() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending:
                raise KeyboardInterrupt


@dataclass
class Started:
    """The runs started through node 1, and whether both nodes answered as one engine."""

    fan_out: str  # the id of the sum_squares run
    squares: dict[str, int]  # run id -> its input, of the square runs
    subtasks: set[str]  # the fan-out's subtasks
    as_expected: bool  # the results and both nodes' listings


async def drive(node1: Node, node2: Node) -> Started:
    """Start runs through node 1 and follow them to their end through node 2."""
    from render_sdk import RenderAsync
    from render_sdk.client import ListTaskRunsParams

    async with RenderAsync(base_url=node1.url) as one, RenderAsync(base_url=node2.url) as two:
        print(f"\n== runs started through node 1 ({node1.url}) ==")
        fan_out = await one.workflows.start_task("sum_squares", [FAN_OUT])
        show(f"sum_squares({FAN_OUT})", f"run {fan_out.id} is {fan_out.status}")
        # Started at once, while the fan-out keeps node 1 busy: some may run on node 2.
        squares = await asyncio.gather(*(one.workflows.start_task("square", [i]) for i in SQUARES))
        show(f"square({SQUARES[0]}) .. square({SQUARES[-1]})", f"{len(squares)} runs started")

        print(f"\n== their ends, streamed from node 2 ({node2.url}) ==")
        labels = {run.id: f"square({i})" for i, run in zip(SQUARES, squares, strict=True)}
        labels[fan_out.id] = f"sum_squares({FAN_OUT})"
        ended: dict[str, Any] = {}
        async for details in two.workflows.task_run_events(list(labels)):
            ended[details.id] = details.result if details.status == "completed" else None
            show(labels[details.id], f"{details.status}: {details.result}")

        tree = await two.workflows.list_task_runs(
            ListTaskRunsParams(root_task_run_id=fan_out.id, limit=100)
        )
        subtasks = {run.id for run in tree if run.id != fan_out.id}
        everything = ListTaskRunsParams(limit=100)
        listed_1 = {run.id for run in await one.workflows.list_task_runs(everything)}
        listed_2 = {run.id for run in await two.workflows.list_task_runs(everything)}

    print("\n== one engine, two nodes ==")
    show("runs listed by node 1", len(listed_1))
    show("runs listed by node 2", f"{len(listed_2)} (the same runs: {listed_1 == listed_2})")
    show("the fan-out's subtasks (node 2)", len(subtasks))
    expected = {run.id: i * i for i, run in zip(SQUARES, squares, strict=True)}
    expected[fan_out.id] = sum(i * i for i in range(FAN_OUT))
    as_expected = (
        ended == expected
        and len(subtasks) == FAN_OUT
        and listed_1 == listed_2
        and set(labels) | subtasks <= listed_1
    )
    inputs = {run.id: i for i, run in zip(SQUARES, squares, strict=True)}
    return Started(fan_out.id, inputs, subtasks, as_expected)


def which_node_ran(started: Started, nodes: list[Node]) -> bool:
    """Show which node ran each run (from the consoles of the stopped nodes); True when each
    run ended on exactly one node."""
    print("\n== which node ran what (their consoles) ==")
    ran = {node.number: node.ran() for node in nodes}
    for number, ids in ran.items():
        squares = [str(i) for run_id, i in started.squares.items() if run_id in ids]
        parts = [f"{len(squares)} of the {len(started.squares)} squares"]
        parts[0] += f" ({', '.join(squares)})" if squares else ""
        if started.fan_out in ids:
            parts.append(f"sum_squares({FAN_OUT})")
        parts.append(f"{len(ids & started.subtasks)} of its {len(started.subtasks)} subtasks")
        show(f"node {number} ran", ", ".join(parts))
    every = {started.fan_out, *started.squares, *started.subtasks}
    counts = [sum(run_id in ids for ids in ran.values()) for run_id in every]
    return all(count == 1 for count in counts)


def print_console(node: Node, last: int = 20) -> None:
    lines = node.output().splitlines()
    shown = min(last, len(lines))
    print(f"\n== node {node.number}'s console (last {shown} of {len(lines)} lines) ==")
    print("\n".join(lines[-last:]))


def main() -> int:
    sys.path.insert(0, str(ROOT))  # tests/pgcluster.py: the tests' throwaway cluster
    from tests.pgcluster import PASSWORD, PostgresCluster, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        print(
            f"{PROG}: PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
            "install Debian's postgresql package (apt-get install -y postgresql) and run again",
            file=sys.stderr,
        )
        return 2
    for name in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV"):
        os.environ.pop(name, None)  # they would point both clients at one address
    interrupts = Interrupts()
    consoles: Path | None = None
    cluster: PostgresCluster | None = None
    nodes: list[Node] = []
    started: Started | None = None
    status = 1
    try:
        with interrupts.held():
            consoles = Path(tempfile.mkdtemp(prefix="render-demo-nodes-"))
            cluster = PostgresCluster(bin_dir)
            cluster.start()
        cluster.sql("CREATE DATABASE workflows")
        db = cluster.url("workflows")
        print(f"PostgreSQL {bin_dir.parent.name}: a throwaway cluster in {cluster.root}")
        for number in (1, 2):
            node = Node(number, db, consoles)
            shown = " ".join(node.command(db.replace(PASSWORD, "***")))
            print(f"$ (cd examples && {shown})  # node {number}")
            with interrupts.held():
                node.start()
                nodes.append(node)
        for node in nodes:
            node.wait_ready()
        started = asyncio.run(drive(*nodes))
        status = 0 if started.as_expected else 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted: stopping the nodes and the cluster", file=sys.stderr)
        status = 130
    except (NodeFailed, RuntimeError) as exc:  # RuntimeError: initdb, pg_ctl or psql failed
        print(f"{PROG}: {exc}", file=sys.stderr)
    finally:
        interrupts.ignore()
        exits = [node.stop() for node in nodes]
        if started is not None and not which_node_ran(started, nodes):
            status = 1
        if status != 130:
            for node in nodes:
                print_console(node)
        if nodes:
            print(f"\nnodes stopped (exit status {', '.join(map(str, exits))})")
        if cluster is not None:
            cluster.stop()
            print("PostgreSQL stopped, its folder removed")
        if consoles is not None:
            shutil.rmtree(consoles, ignore_errors=True)
    if status == 0 and any(code != 0 for code in exits):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
