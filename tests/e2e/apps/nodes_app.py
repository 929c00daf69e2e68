"""Tasks of the several-node tests (tests/nodes): each says which node ran it and keeps a
record of every attempt's start and end, so that a test can check that work spread and that no
run ran twice at the same time.

A node is an engine process; its workers inherit its environment, where the tests set
``NODE_NAME``. ``RECORDS`` is the folder of the records: one file per key, one line per start
or end of an attempt (``start <node> <pid> <time>`` / ``end <node> <pid> <time>``).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from render_sdk import Retry, Workflows

app = Workflows()


def _note(key: str, what: str) -> None:
    folder = Path(os.environ["RECORDS"])
    line = f"{what} {os.environ.get('NODE_NAME', '?')} {os.getpid()} {time.time():.6f}\n"
    with (folder / key).open("a") as out:
        out.write(line)


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def where(key: str, seconds: float) -> list[str]:
    """Sleep ``seconds``; the node that ran it and the key."""
    _note(key, "start")
    time.sleep(seconds)
    _note(key, "end")
    return [os.environ.get("NODE_NAME", "?"), key]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
async def spread(key: str, children: int, seconds: float) -> list[list[str]]:
    """A parent whose ``children`` subtasks (``where``) may run on any node."""
    found = await asyncio.gather(*(where(f"{key}-{i}", seconds) for i in range(children)))
    return [list(item) for item in found]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def hold(key: str) -> str:
    """Run until canceled (or 10 minutes): writes its process id to RECORDS/<key>.pid first."""
    (Path(os.environ["RECORDS"]) / f"{key}.pid").write_text(str(os.getpid()))
    time.sleep(600)
    return "not canceled"


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
async def hold_tree(key: str, children: int) -> list[str]:
    """A parent whose ``children`` subtasks (``hold``) run until canceled, on any node."""
    return list(await asyncio.gather(*(hold(f"{key}-{i}") for i in range(children))))


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def only_a(key: str) -> list[str]:
    """A task its second version (nodes_app_b.py) does not define: the node that ran it and
    the key."""
    return [os.environ.get("NODE_NAME", "?"), key]
