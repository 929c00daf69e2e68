"""The seam between the engine's core (store, scheduler, workers) and its front (REST, SSE, CLI).

:class:`EngineCoreAPI` is what the front may call. ``render_sdk.engine.core.EngineCore``
implements it; tests of the front may use any other implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from render_sdk.engine.records import JSONInput, LogRecord, RunRecord, TaskRecord
from render_sdk.engine.records import RunFilter as RunFilter  # the front's listings take it

# Seconds a node's lease lasts by default (docs/engine.md, "Running several nodes"): long enough
# to ride out a short pause of the database or the machine, short enough that the runs of a node
# that died start again elsewhere within a quarter of a minute.
DEFAULT_LEASE_SECONDS = 15.0


@dataclass
class EngineConfig:
    """Settings of one engine.

    Exactly one of ``app_target`` (``"module:app"``: this SDK's worker, run on the fast path of
    reused pre-imported processes) and ``start_command`` (any start command that follows the
    callback API, run one process per attempt) is set.
    """

    db_path: str = ".render/workflows.db"  # or ":memory:", or a postgresql:// URL
    app_target: str | None = None
    start_command: list[str] | None = None
    cwd: Path = field(default_factory=Path.cwd)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for workers
    max_concurrency: int | None = None  # None: derived from the CPU count (documented)
    durable: bool = True  # fsync each group commit (power-loss safe); False: crash-safe only
    min_timeout_seconds: float = 1.0  # Render allows 30..86400; the local engine allows shorter
    worker_max_runs: int = 10_000  # retire a reused worker process after this many attempts
    worker_max_rss_mb: int = 512  # ... or when its resident memory grows past this
    socket_dir: Path | None = None  # private (0700) folder for callback sockets; None: a temp dir
    # Seconds a node's lease lasts: a node that stops renewing it (killed, cut off) loses its
    # runs to the other nodes this long after its last renewal (docs/engine.md, "Nodes and
    # claims"). Matters only with a store that several nodes share.
    lease_seconds: float = DEFAULT_LEASE_SECONDS


class EngineCoreAPI(Protocol):
    async def start(self) -> None:
        """Open the store, recover unfinished runs, register the tasks, start scheduling."""

    async def stop(self) -> None:
        """Stop scheduling, stop running attempts (kept for the next start), close the store."""

    # --- tasks -----------------------------------------------------------------------------
    def list_tasks(self) -> list[TaskRecord]:
        """Registered tasks, oldest first."""

    async def find_task(self, ref: str) -> TaskRecord | None:
        """A task by bare name, ``anything/name`` (optionally ``:version``), or id.

        An unknown ref triggers one re-registration of the worker before answering None.
        """

    # --- runs ------------------------------------------------------------------------------
    async def start_run(
        self, task: TaskRecord, input: JSONInput, idempotency_key: str | None = None
    ) -> RunRecord:
        """Validate ``input`` against the task's parameters (InvalidRequest naming the problem),
        commit the new pending run durably, then queue it. The same idempotency key returns the
        run it first created."""

    async def get_run(self, run_id: str) -> RunRecord:
        """The run with its attempts; NotFound if unknown."""

    async def unknown_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Those of ``run_ids`` that name no run, in order (all checked in one read)."""

    async def list_runs(
        self, filter: RunFilter, limit: int, cursor: str | None
    ) -> list[tuple[RunRecord, str]]:
        """Newest first; each item with its opaque cursor. The next page starts after ``cursor``.
        A malformed cursor is InvalidRequest."""

    async def cancel_run(self, run_id: str) -> None:
        """Cancel a pending or running run and its whole subtree; NotFound if unknown, Conflict
        if it is already terminal."""

    def on_terminal(
        self, run_id: str, callback: Callable[[RunRecord], None]
    ) -> Callable[[], None] | None:
        """Call ``callback`` once with the run's record when it turns terminal (after that is
        committed). Returns the function that withdraws the callback, or None (and never calls
        it) when ``run_id`` is not an active run: finished, or unknown."""

    def watch_states(self, callback: Callable[[RunRecord], None]) -> Callable[[], None]:
        """Call ``callback`` with every run whose state changes (created, started, retrying,
        ended), in the engine's loop; returns the function that stops the calls. The record is
        the engine's own: read it at once, do not keep or change it."""

    def terminal_events(
        self, run_ids: list[str], after_seq: int | None = None
    ) -> AsyncIterator[RunRecord]:
        """Yield each requested run once, when it is terminal (at once for those that already
        are), then end. With ``after_seq`` (a Last-Event-ID), runs whose ``event_seq`` is at most
        that are skipped. Unknown ids are NotFound before anything is yielded."""

    async def get_logs(
        self, run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[LogRecord], bool]:
        """Log lines of a run, oldest first, after ``cursor`` (a seq). Returns the lines and
        whether capture was truncated. NotFound if the run is unknown."""
