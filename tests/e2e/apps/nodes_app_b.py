"""A second version of tests/e2e/apps/nodes_app.py, for a node beside nodes of the first
(tests/nodes/test_mixed_tasks.py): ``where`` and ``spread`` as there, ``only_b`` and ``ask_a``
new, ``hold_tree`` defined differently (a timeout), ``hold`` and ``only_a`` gone.
"""

from __future__ import annotations

import asyncio
import os
import time

from nodes_app import _note, only_a

from render_sdk import Retry, Workflows

app = Workflows()


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def where(key: str, seconds: float) -> list[str]:
    """As in nodes_app: sleep ``seconds``; the node that ran it and the key."""
    _note(key, "start")
    time.sleep(seconds)
    _note(key, "end")
    return [os.environ.get("NODE_NAME", "?"), key]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
async def spread(key: str, children: int, seconds: float) -> list[list[str]]:
    """As in nodes_app: ``children`` subtasks (``where``) that may run on any node."""
    found = await asyncio.gather(*(where(f"{key}-{i}", seconds) for i in range(children)))
    return [list(item) for item in found]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def only_b(key: str, seconds: float) -> list[str]:
    """Only this version has it: sleep ``seconds``; the node that ran it and the key."""
    _note(key, "start")
    time.sleep(seconds)
    _note(key, "end")
    return [os.environ.get("NODE_NAME", "?"), key]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
async def ask_a(key: str) -> list[str]:
    """The node that ran it, and what its subtask ``only_a`` (which this version does not
    define) says: the node that ran that and the key."""
    return [os.environ.get("NODE_NAME", "?"), *await only_a(key)]


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0), timeout_seconds=600)
def hold_tree(key: str, children: int) -> list[str]:
    """nodes_app's ``hold_tree`` defined differently: with a timeout, and returning at once."""
    return [f"{key}-{i}" for i in range(children)]
