"""The engine's storage interface.

:class:`Store` is everything the core asks of durable storage. :class:`SQLiteStore
<render_sdk.engine.store_sqlite.SQLiteStore>` implements it; a PostgreSQL store can follow
without touching the scheduler. Writes return awaitables that resolve once the write is
committed (group commit batches many of them into one transaction); ``*_nowait`` writes are
queued in order and committed with the next batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from render_sdk.engine.interface import RunFilter
from render_sdk.engine.records import LogRecord, RunRecord, TaskRecord


@dataclass(frozen=True)
class StoreCounters:
    """High-water marks read when the store opens."""

    event_seq: int  # largest terminal-event sequence number handed out so far
    log_seq: int  # largest log line sequence number so far
    cursor_key: bytes  # secret for cursor MACs, kept with the data


@dataclass(frozen=True)
class InsertResult:
    """What :meth:`Store.insert_run` did: ``created`` is False when the idempotency key was
    already taken, in which case ``run_id`` is the run it first created."""

    created: bool
    run_id: str


class Store(Protocol):
    """Durable storage of tasks, runs, attempts, logs and idempotency keys.

    store = SQLiteStore(":memory:", durable=False)
    counters = await store.open()
    """

    async def open(self) -> StoreCounters:
        """Open (and create) the storage; return its high-water marks."""

    async def close(self) -> None:
        """Commit everything queued and close."""

    async def save_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Insert or update registered tasks (a known task keeps its ``created_at``)."""

    async def load_tasks(self) -> list[TaskRecord]:
        """Every task ever registered, oldest first."""

    async def insert_run(
        self, run: RunRecord, idempotency: tuple[str, str] | None, *, early: bool = False
    ) -> InsertResult:
        """Insert ``run`` unless ``idempotency`` (scope, key) is taken. Resolves once committed;
        with ``early``, once applied (for answers to workers of this engine, whose effects can
        only become durable through later writes)."""

    def insert_run_staged(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> tuple[Awaitable[InsertResult], Awaitable[None]]:
        """The same insert, staged: the first result resolves once it is applied (with what
        :meth:`insert_run` returns), the second once it is committed. Work may start on an
        applied insert as long as nothing reports the run before the commit."""

    def save_run(self, run: RunRecord) -> Awaitable[None]:
        """Queue a write of the run's row with its attempts (a snapshot taken now); the result
        resolves once committed. Writes are committed in the order they were queued."""

    def save_run_nowait(self, run: RunRecord) -> None:
        """Queue the same write without waiting for the commit."""

    def append_logs_nowait(self, lines: Sequence[LogRecord]) -> None:
        """Queue output lines (their ``seq`` already assigned)."""

    def mark_logs_truncated_nowait(self, run_id: str) -> None:
        """Queue the flag saying the run's output capture was cut short."""

    async def get_run(self, run_id: str) -> RunRecord | None:
        """The stored run with its attempts, None if unknown."""

    async def list_runs(
        self, filter: RunFilter, limit: int, before: int | None
    ) -> list[tuple[RunRecord, int]]:
        """Newest first: runs with position below ``before`` (all if None), each with its
        position."""

    async def get_logs(
        self, run_id: str, after: int | None, limit: int
    ) -> tuple[list[LogRecord], bool]:
        """Up to ``limit`` lines of the run after seq ``after``, and the truncated flag."""

    async def load_unfinished(self) -> list[RunRecord]:
        """Runs that are pending or running, oldest first, with all their attempts."""
