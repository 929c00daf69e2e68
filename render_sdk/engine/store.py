"""The engine's storage interface.

:class:`Store` is everything the core asks of storage, in terms any database can serve: insert a
run (once per idempotency key), save a run's new state, list runs newest first with a cursor,
read logs, load the runs left unfinished, and share runs between engine nodes (below).
:class:`~render_sdk.engine.store_sqlite.SQLiteStore`,
:class:`~render_sdk.engine.store_memory.MemoryStore` and
:class:`~render_sdk.engine.store_postgres.PostgresStore` implement it and pass the same
conformance tests (tests/unit/engine/test_store_conformance.py).

Nodes and claims (docs/engine.md, "Nodes and claims"). Each start of an engine is a *node* with
an id (``nod-...``). A run that is not terminal has an ``owner``, the node holding it (running
it, or holding it in a retry wait it will resume), or none: then any node may *claim* it once its
``not_before`` (the end of a retry wait) has passed. A node is live while it holds a lease that
it renews (:meth:`Store.join`, :meth:`Store.renew`); :meth:`Store.sweep`, run by any node, frees
the runs of every owner that is not live: their running attempts are recorded as interrupted (no
retry spent, render_sdk/engine/lifecycle.py) and nobody holds them any more. A node that stops
cleanly frees its runs at once (:meth:`Store.leave`). The same run is never claimed by two
nodes. Leases live in the database for a store that several nodes share (PostgreSQL); a store
of one node at a time (SQLite, memory) keeps them in memory (:class:`LocalLeases`), so at open
every earlier owner is gone and its runs are freed by the first sweep. A node joins with the
tasks it defines (each name with a digest of its definition): :meth:`Store.live_nodes` tells
every node what the others define, and a node claims only runs of its own tasks
(docs/engine.md, "Running several nodes").

Writes are ordered when they are called: each takes a snapshot of its records at once, a
write called after another is never durable before it, and a read sees every write called
before it (whether or not that write is durable yet). The awaitable a write returns resolves
once the write is durable; how a store gets there (SQLite batches many writes into one commit)
is its own business.

:func:`~render_sdk.engine.stores.make_store` picks the store for a ``db`` setting: a
``postgresql://`` (or ``postgres://``) URL selects
:class:`~render_sdk.engine.store_postgres.PostgresStore` (the ``postgres`` extra), anything else
is a SQLite file (or ``:memory:``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from render_sdk.engine.records import LogRecord, RunFilter, RunRecord, TaskRecord


@dataclass(frozen=True)
class StoreCounters:
    """High-water marks read when the store opens."""

    event_seq: int  # largest terminal-event sequence number handed out so far
    log_seq: int  # largest log line sequence number so far
    cursor_key: bytes  # secret for cursor MACs, kept with the data


@dataclass(frozen=True)
class NodeInfo:
    """A live node as it last joined: its id, the tasks it defines (each name with a digest of
    its definition; None when it did not say, as engines from before digests were kept do), and
    where it runs (a line for people, empty when the store keeps none)."""

    id: str
    tasks: Mapping[str, str] | None
    about: str = ""

    @property
    def fingerprint(self) -> str:
        """:func:`fingerprint` of its tasks ("" when it did not say them)."""
        return "" if self.tasks is None else fingerprint(self.tasks)


def fingerprint(tasks: Mapping[str, str]) -> str:
    """One digest of a set of tasks (name -> digest of its definition): equal for two nodes
    exactly when they define the same tasks the same way.

    >>> fingerprint({"b": "2", "a": "1"}) == fingerprint({"a": "1", "b": "2"}) != fingerprint({})
    True
    """
    digest = hashlib.sha256()
    for name, spec in sorted(tasks.items()):
        digest.update(f"{name}\0{spec}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class InsertResult:
    """What :meth:`Store.insert_run` did: ``created`` is False when the idempotency key was
    already taken, in which case ``run_id`` is the run it first created."""

    created: bool
    run_id: str


class Store(Protocol):
    """Durable storage of tasks, runs, attempts, logs and idempotency keys.

    store = MemoryStore()
    counters = await store.open()
    await store.insert_run(run, None)
    """

    async def open(self) -> StoreCounters:
        """Open (and create) the storage; return its high-water marks."""

    async def close(self) -> None:
        """Make every write called so far durable, then close."""

    async def save_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Insert or update registered tasks (a known task keeps its ``created_at``)."""

    async def load_tasks(self) -> list[TaskRecord]:
        """Every task ever registered, oldest first."""

    def insert_run(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> Awaitable[InsertResult]:
        """Insert ``run`` unless ``idempotency`` (scope, key) is taken; resolves once durable.
        The same run id twice is an error of the caller (the store raises)."""

    def save_run(self, run: RunRecord) -> Awaitable[int | None]:
        """Write the run's state with its attempts as they are now; resolves once durable (to
        None, or with a store that several nodes share, see :class:`SharedStore`, to the
        terminal event id it gave a terminal run that had none)."""

    def append_logs(self, lines: Sequence[LogRecord]) -> None:
        """Add output lines (their ``seq`` already assigned); durable with the next write that
        is waited for. Nobody waits for logs: a failure is logged by the store."""

    def mark_logs_truncated(self, run_id: str) -> None:
        """Flag that the run's output capture was cut short (durable as :meth:`append_logs`)."""

    async def get_run(self, run_id: str) -> RunRecord | None:
        """The stored run with its attempts, None if unknown."""

    async def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The stored runs among ``run_ids`` by id (unknown ids are left out), read together:
        one read however many, where :meth:`get_run` would be one each."""

    async def list_runs(
        self, filter: RunFilter, limit: int, before: int | None
    ) -> list[tuple[RunRecord, int]]:
        """Newest first, at most ``limit``: runs that match ``filter`` (its ``statuses``
        against the stored status) and whose position is below ``before`` (all if None), each
        with its position (the cursor of the next page). Every filter and combination of
        filters must stay fast however many runs are stored: a page reads its own rows only."""

    async def get_logs(
        self, run_id: str, after: int | None, limit: int
    ) -> tuple[list[LogRecord], bool]:
        """Up to ``limit`` lines of the run after seq ``after``, and the truncated flag."""

    async def load_unfinished(self) -> list[RunRecord]:
        """Runs that are pending or running, oldest first, with all their attempts."""

    # --- nodes and claims ---------------------------------------------------------------------
    @property
    def shared(self) -> bool:
        """True when several nodes may use this store at once (they then claim new work from
        it); False for a store of one node at a time."""

    async def join(
        self, node: str, lease_seconds: float, tasks: Mapping[str, str] | None = None
    ) -> None:
        """Record ``node`` as live for ``lease_seconds`` from now, defining ``tasks`` (task name
        -> digest of its definition; None: not said). Joining again replaces both."""

    async def live_nodes(self) -> list[NodeInfo]:
        """Every node whose lease has not lapsed, by id, with what it said when it joined."""

    async def renew(self, node: str, lease_seconds: float) -> bool:
        """Extend ``node``'s lease to ``lease_seconds`` from now; False if it holds none any more
        (a sweep found it lapsed and freed its runs)."""

    async def sweep(self) -> dict[str, list[str]]:
        """Free the runs of every owner that is not live (its lease lapsed, or it never joined
        this store since it opened), and forget lapsed nodes: each such run's running attempt
        is interrupted, and it has no owner any more. A running run without an owner (written
        before owners were kept) is freed too. Returns the freed run ids by former owner."""

    async def leave(self, node: str) -> None:
        """``node`` stops: free its runs (as :meth:`sweep` does) and forget it."""

    async def claim_runs(
        self,
        node: str,
        limit: int | None,
        *,
        waiting: bool = False,
        tasks: Collection[str] | None = None,
    ) -> list[RunRecord]:
        """Up to ``limit`` (None: all) pending runs without an owner, oldest first, now owned by
        ``node``: those whose ``not_before`` has passed, and with ``waiting`` those still in a
        retry wait too (the node then resumes each at its ``not_before``); with ``tasks``, only
        runs of the tasks of these names. Concurrent claims, from this store object or from
        other nodes, never return the same run twice."""


class LocalLeases:
    """The leases of a store of one node at a time, kept in this process's memory: a store that
    opens starts a new one, so every earlier node is gone.

    leases = LocalLeases()
    leases.join("nod-1a2b", 15.0, {"square": "9f2c..."})
    """

    def __init__(self) -> None:
        self._nodes: dict[str, tuple[float, Mapping[str, str] | None]] = {}

    def join(self, node: str, lease_seconds: float, tasks: Mapping[str, str] | None) -> None:
        self._nodes[node] = (time.monotonic() + lease_seconds, tasks)

    def renew(self, node: str, lease_seconds: float) -> bool:
        found = self._nodes.get(node)
        if found is None:
            return False
        self._nodes[node] = (time.monotonic() + lease_seconds, found[1])
        return True

    def expire(self) -> set[str]:
        """Forget the nodes whose lease lapsed; the live ones."""
        now = time.monotonic()
        for node in [n for n, (until, _) in self._nodes.items() if until < now]:
            del self._nodes[node]
        return set(self._nodes)

    def leave(self, node: str) -> None:
        self._nodes.pop(node, None)

    def live(self) -> list[NodeInfo]:
        now = time.monotonic()
        return [
            NodeInfo(node, None if tasks is None else dict(tasks))
            for node, (until, tasks) in sorted(self._nodes.items())
            if until >= now
        ]


@runtime_checkable
class StagedInserts(Protocol):
    """A store whose writes are visible to its engine before they are durable may offer this;
    the fast lane (render_sdk/engine/fastlane.py) then starts a run while its insert commits."""

    def insert_run_staged(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> tuple[Awaitable[InsertResult], Awaitable[None]]:
        """:meth:`Store.insert_run`, staged: the first result resolves once the insert is
        applied (what later reads and writes of this store see), the second once it is durable.
        Work may start on an applied insert as long as nothing reports the run before then."""


# Log line numbers a node of a shared store takes at once (SharedStore.log_block).
LOG_BLOCK = 100_000


class StoreListener(Protocol):
    """What a node does with the news of other nodes (:class:`SharedStore`)."""

    def work(self) -> None:
        """Runs nobody holds are there to claim."""

    def done(self, run_id: str) -> None:
        """``run_id`` became terminal (read it from the store: it is committed)."""

    def cancel(self, run_id: str, ancestor: str | None) -> None:
        """A cancel of ``run_id`` was asked for on some node (because ``ancestor``, a run
        above it, was canceled, if given)."""

    def joined(self, node: str) -> None:
        """Node ``node`` joined (or joined again, or said anew which tasks it defines)."""

    def resync(self) -> None:
        """News may have been missed (the connection was lost): look again at what you wait
        for."""


@runtime_checkable
class SharedStore(Protocol):
    """What a store that several nodes use at once (:attr:`Store.shared`) offers besides
    :class:`Store`: news between nodes, and counters no two nodes hand out twice.

    Once a store object has joined as a node, its :meth:`Store.save_run` writes a run only while
    that node holds it: a node whose lease lapsed (its runs freed, perhaps claimed by another)
    cannot overwrite what the run's new holder writes. Such writes are dropped.

    Terminal event ids come from the store: :meth:`Store.save_run` of a terminal run whose
    ``event_seq`` is None gives it one in the transaction that writes it (larger than every one
    given before, on any node) and resolves to it."""

    async def listen(self, listener: StoreListener) -> None:
        """Tell ``listener`` the news of every node, until the store closes. The news a
        write sends goes out once it is committed."""

    def request_cancel(self, run_id: str, ancestor: str | None = None) -> Awaitable[None]:
        """Send every node the news that ``run_id`` is to be canceled (because ``ancestor``
        was, if given)."""

    async def claim_run(self, node: str, run_id: str) -> RunRecord | None:
        """Claim ``run_id`` for ``node`` if it is pending and nobody holds it (None if not)."""

    async def release_runs(self, node: str, run_ids: Collection[str]) -> None:
        """Give up ``node``'s hold on these runs that have not started (pending, held by
        ``node``; the others are left as they are), so that any node may claim them, and tell
        every node there is work."""

    async def log_block(self) -> int:
        """The first of a block of ``LOG_BLOCK`` log line numbers of the caller's own, each
        larger than every number handed out before."""


class StoreOpenError(Exception):
    """The database cannot be used for a reason its user can fix (unreachable server, wrong
    password, missing database or driver, a schema newer than this engine). The message is one
    line and never shows a password."""


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: str) -> bool:
    """Whether ``db`` names a PostgreSQL database rather than a SQLite file.

    >>> is_postgres_url("postgres://u@db/x"), is_postgres_url(".render/workflows.db")
    (True, False)
    """
    return db.lower().startswith(POSTGRES_SCHEMES)


def mask_url(db: str) -> str:
    """``db`` with any password replaced by ``***`` (in the user part and in the query).

    >>> mask_url("postgresql://app:s3cret@db:5432/runs?password=s3cret&sslmode=require")
    'postgresql://app:***@db:5432/runs?password=%2A%2A%2A&sslmode=require'
    """
    if not is_postgres_url(db):
        return db
    try:
        parts = urlsplit(db)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostinfo = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostinfo}"
        query = parts.query
        if "password" in query.lower():
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return db.split("://", 1)[0] + "://***"
