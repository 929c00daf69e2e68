"""Where a task call happens: plain Python, an in-process call chain, or a worker's attempt.

A :class:`contextvars.ContextVar` holds the current frame. It is unset in plain Python, so a
task called there is just its function. While a task executes (in a worker attempt, or called
directly from plain Python) it is set, and calls of other tasks become subtask calls.
Threads started with a copied context (``asyncio.to_thread``, ``contextvars.copy_context()``)
see it too; bare ``threading.Thread`` targets do not.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from render_sdk.workflows._pool import DaemonPool
    from render_sdk.workflows._transport import CallbackClient


@dataclass
class LocalFrame:
    """Tasks run in this process, started by a direct call from plain Python (unit tests)."""


@dataclass
class AttemptFrame:
    """One attempt of a run in a worker process: subtasks go through the callback API."""

    client: CallbackClient
    pool: DaemonPool
    attempt_id: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)


Frame = LocalFrame | AttemptFrame

current_frame: contextvars.ContextVar[Frame | None] = contextvars.ContextVar(
    "render_sdk_task_frame", default=None
)
