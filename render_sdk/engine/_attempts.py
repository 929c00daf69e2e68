"""Runtime objects shared by the scheduler, the worker processes and the callback API.

An :class:`ActiveRun` is a run that is not terminal yet, kept in memory. An :class:`Attempt` is one
execution of it on one worker process; its :attr:`Attempt.outcome` future is resolved by whoever
learns first how it ended: the worker's callback, the process exiting, the timeout, a cancel or the
engine stopping. A :class:`SocketContext` is what one callback socket knows: its mode and the
attempt it is serving.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from render_sdk.engine._logcapture import AttemptLog
from render_sdk.engine._signal import Signal
from render_sdk.engine.lifecycle import Outcome, Reason
from render_sdk.engine.records import RunRecord, TaskRecord

if TYPE_CHECKING:
    from render_sdk.engine.workers import WorkerProcess


class ActiveRun:
    """A run that is not terminal yet, with what the scheduler needs to drive it."""

    def __init__(self, record: RunRecord, task: TaskRecord) -> None:
        self.record = record
        self.task = task
        self.attempt: Attempt | None = None
        self.children: list[str] = []
        self.done = asyncio.Event()  # set once the terminal state is committed
        # Set when the terminal state is decided (its commit queued): enough for workers of
        # this engine (a parent's subtask wait), whose later writes commit after it.
        self.settled = asyncio.Event()
        self.listeners: list[Any] = []  # callables taking the final RunRecord
        self.retry_timer: asyncio.TimerHandle | None = None
        self.queued = False
        # Queued here only because no other live node could run it (a shared store): given up
        # for any node to claim once one can (EngineCore.share_queued).
        self.kept_alone = False
        self.canceling = False
        self.cancel_reason: Reason | None = None  # set on the runs below a canceled one


class Attempt:
    """One execution of a run on a worker process."""

    def __init__(self, run: ActiveRun, number: int, token: str, log: AttemptLog) -> None:
        self.run = run
        self.number = number
        self.token = token
        self.log = log
        loop = asyncio.get_running_loop()
        self.outcome: asyncio.Future[Outcome] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()  # outcome committed
        # The worker process is done with this attempt (serve mode: ready for the next one).
        self.released: asyncio.Future[None] = loop.create_future()
        self.awaiting: ActiveRun | None = None  # subtask this attempt is waiting for
        self.long_polls = 0
        self.worker: WorkerProcess | None = None  # the process it runs on, once known
        self.output_drained = False  # its callback said all its output was read already
        self.startup: dict[str, datetime] | None = None  # the worker's start-up times, if sent

    def resolve(self, outcome: Outcome) -> bool:
        """Record how the attempt ended; False if another outcome came first."""
        if self.outcome.done():
            return False
        self.outcome.set_result(outcome)
        return True

    @property
    def blocked(self) -> bool:
        """True while the attempt waits for a subtask (it then holds no concurrency slot)."""
        if self.long_polls > 0:
            return True
        return self.awaiting is not None and not self.awaiting.settled.is_set()


@dataclass
class SocketContext:
    """The state of one callback socket."""

    mode: Literal["register", "run", "serve"]
    attempt: Attempt | None = None
    delivered: bool = False  # the current attempt's input was handed out
    retiring: bool = False  # serve: answer 410 to the next GET /input
    registered: asyncio.Future[list[TaskRecord]] | None = None
    wake: Signal = field(default_factory=Signal)
    got_input_once: bool = False

    def assign(self, attempt: Attempt) -> None:
        self.attempt = attempt
        self.delivered = False
        self.wake.set()

    def clear(self) -> None:
        self.attempt = None
        self.delivered = False

    def retire(self) -> None:
        self.retiring = True
        self.wake.set()
