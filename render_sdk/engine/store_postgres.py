"""PostgreSQL implementation of :class:`~render_sdk.engine.store.Store` (the ``postgres`` extra).

Selected by a ``postgresql://`` (or ``postgres://``) URL as the engine's database (docs/engine.md,
"The PostgreSQL store"). The engine keeps its tables in a schema of its own,
``render_workflows``, created and migrated on open: ``schema_version`` records the numbered steps
of :data:`MIGRATIONS` applied so far, and a transaction-level advisory lock makes engines that
open the same database at once apply each step once.

Writes go through one connection, in the order they are called: a writer task takes every write
queued meanwhile into one transaction (group commit), so a write is never durable before one
called earlier, and many runs share a commit. Reads use a small pool of other connections.

Several engines share one database as nodes (docs/engine.md, "Running several nodes"): the
``nodes`` table holds their leases, runs nobody holds are claimed with ``FOR UPDATE SKIP LOCKED``,
news goes between them with ``NOTIFY`` (:meth:`PostgresStore.listen`), and the counters they
share come from sequences.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from render_sdk.engine import lifecycle
from render_sdk.engine._stored import (
    RUN_COLUMNS,
    RUN_NCOLS,
    run_from_row,
    run_row,
    state_values,
    task_from_row,
    task_spec,
)
from render_sdk.engine.records import LogRecord, RunFilter, RunRecord, RunStatus, TaskRecord
from render_sdk.engine.store import (
    InsertResult,
    NodeInfo,
    StoreCounters,
    StoreListener,
    StoreOpenError,
    mask_url,
)

_log = logging.getLogger("render_sdk.engine.store")

SCHEMA = "render_workflows"
# Advisory lock keys (classid, objid): 0x52574b46 is "RWKF".
_LOCK_CLASS = 0x52574B46
_MIGRATION_LOCK = 2
# Notification channels (docs/engine.md, "Running several nodes"): runs nobody holds are there
# to claim; a run became terminal (payload: its id); a cancel is asked for (payload: its id); a
# node joined (payload: its id).
WORK_CHANNEL = "render_workflows_work"
DONE_CHANNEL = "render_workflows_done"
CANCEL_CHANNEL = "render_workflows_cancel"
JOIN_CHANNEL = "render_workflows_join"
_NOTIFY = "SELECT pg_notify($1, $2)"
_EVENT_IDS = "SELECT nextval('event_ids') FROM generate_series(1, $1)"
# Log line numbers are taken in blocks of LOG_BLOCK (a fresh block with each claim of runs that
# ran before, so that a run's lines on a node that took it over come after its earlier ones;
# migration 5 has the number).
_MAX_BATCH = 10_000
_POOL_SIZE = 4

# The numbered steps of the schema. A step is never changed once released: a new one is added.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key text PRIMARY KEY, value bytea NOT NULL);
        CREATE TABLE tasks (
            id text PRIMARY KEY,
            name text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL,
            spec text NOT NULL
        );
        CREATE TABLE runs (
            pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            task_id text NOT NULL,
            task_name text NOT NULL,
            status text NOT NULL,
            input text NOT NULL,
            parent_id text NOT NULL,
            root_id text NOT NULL,
            created_at timestamptz NOT NULL,
            retries integer NOT NULL DEFAULT 0,
            started_at timestamptz,
            completed_at timestamptz,
            results text,
            error text,
            event_seq bigint,
            attempts text NOT NULL DEFAULT '[]',
            logs_truncated boolean NOT NULL DEFAULT false,
            parent_attempt integer
        );
        CREATE INDEX runs_task ON runs (task_id, pos);
        CREATE INDEX runs_root ON runs (root_id, pos);
        CREATE INDEX runs_unfinished ON runs (pos) WHERE status IN ('pending', 'running');
        CREATE TABLE logs (
            seq bigint PRIMARY KEY,
            run_id text NOT NULL,
            attempt integer NOT NULL,
            stream text NOT NULL,
            ts timestamptz NOT NULL,
            message text NOT NULL
        );
        CREATE INDEX logs_run ON logs (run_id, seq);
        CREATE TABLE idempotency (
            scope text NOT NULL,
            key text NOT NULL,
            run_id text NOT NULL,
            PRIMARY KEY (scope, key)
        );
        """,
    ),
    (
        # Listing by status and root runs only: an index for each combination of the filters
        # (task, status, root runs only) ending in pos, as in the SQLite store.
        2,
        """
        CREATE INDEX runs_status ON runs (status, pos);
        CREATE INDEX runs_task_status ON runs (task_id, status, pos);
        CREATE INDEX runs_top ON runs (pos) WHERE parent_id = '';
        CREATE INDEX runs_top_status ON runs (status, pos) WHERE parent_id = '';
        CREATE INDEX runs_top_task ON runs (task_id, pos) WHERE parent_id = '';
        CREATE INDEX runs_top_task_status ON runs (task_id, status, pos) WHERE parent_id = '';
        """,
    ),
    (
        # Why each run is in its status, and the fact its label names (lifecycle.py); an
        # attempt's reason lives in its item of ``attempts``.
        3,
        """
        ALTER TABLE runs ADD COLUMN reason text;
        ALTER TABLE runs ADD COLUMN reason_detail text;
        """,
    ),
    (
        # Nodes and claims (store.py): the node holding each run, when a run in a retry wait
        # may start again, and each live node's lease. Claimable runs read off their own index,
        # oldest first; a node's runs off another.
        4,
        """
        ALTER TABLE runs ADD COLUMN owner text;
        ALTER TABLE runs ADD COLUMN not_before timestamptz;
        CREATE INDEX runs_claimable ON runs (pos) WHERE status = 'pending' AND owner IS NULL;
        CREATE INDEX runs_owned ON runs (owner) WHERE owner IS NOT NULL;
        CREATE TABLE nodes (
            id text PRIMARY KEY,
            joined_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            info text NOT NULL DEFAULT ''
        );
        """,
    ),
    (
        # Counters several nodes share: terminal event ids one at a time, log line numbers in
        # blocks (LOG_BLOCK), each going on from what is stored.
        5,
        """
        CREATE SEQUENCE event_ids;
        SELECT setval('event_ids', coalesce((SELECT max(event_seq) FROM runs), 0) + 1, false);
        CREATE SEQUENCE log_blocks INCREMENT BY 100000;
        SELECT setval('log_blocks', coalesce((SELECT max(seq) FROM logs), 0) + 1, false);
        """,
    ),
]
LATEST_VERSION = MIGRATIONS[-1][0]

_INSERT_RUN = (
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ("
    + ", ".join(f"${n}" for n in range(1, RUN_NCOLS + 1))
    + ")"
)
_SAVE_RUN = (
    "UPDATE runs SET status = $1, retries = $2, started_at = $3, completed_at = $4, "
    "results = $5, error = $6, event_seq = $7, attempts = $8, reason = $9, "
    "reason_detail = $10, owner = $11, not_before = $12 WHERE id = $13"
)
# A node's write of a run: only while the run is still its own (SharedStore: fencing).
_SAVE_OWN_RUN = _SAVE_RUN + " AND owner = $14"
_CLAIM_KEY = (
    "INSERT INTO idempotency (scope, key, run_id) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING RETURNING run_id"
)
# A batch replayed after its connection was lost may have been committed already: its writes
# must not fail on what they wrote themselves (see PostgresStore._apply).
_INSERT_RUN_REPLAY = _INSERT_RUN + " ON CONFLICT (id) DO NOTHING"
_INSERT_LOG = (
    "INSERT INTO logs (seq, run_id, attempt, stream, ts, message) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (seq) DO NOTHING"
)
_LOST = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError among them
    asyncpg.exceptions.OperatorInterventionError,  # the server shut down, or killed the session
)
# How long the writer tries to connect again, its writes waiting, before failing them.
RECONNECT_SECONDS = 60.0


def _is_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the connection is gone (rather than one statement refused)."""
    return isinstance(exc, _LOST) and not isinstance(exc, asyncpg.exceptions.QueryCanceledError)


def _as_is(value: Any) -> Any:
    return value  # asyncpg reads and writes timestamptz as aware datetimes


def _run_row(run: RunRecord) -> tuple[Any, ...]:
    return run_row(run, _as_is)


def _state_values(run: RunRecord) -> tuple[Any, ...]:
    """The columns that change as a run proceeds, in the order of ``_SAVE_RUN`` ($2 to $10)."""
    return state_values(run, _as_is)


def _run_from_row(row: Any) -> RunRecord:
    return run_from_row(row, _as_is)


# --- connecting ---------------------------------------------------------------------------------
def _where(url: str) -> str:
    """``host:port`` of a URL, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or os.environ.get("PGHOST") or "localhost"
    try:
        port = parts.port or int(os.environ.get("PGPORT") or 5432)
    except ValueError:
        port = 5432
    return f"{host}:{port}"


def _dbname(url: str) -> str:
    path = unquote(urlsplit(url).path.lstrip("/"))
    return path or os.environ.get("PGDATABASE") or unquote(urlsplit(url).username or "")


def _open_error(url: str, exc: BaseException) -> StoreOpenError:
    """The one-line error for a failed connection, naming the server and never the password."""
    masked = mask_url(url)
    where = _where(url)
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        user = urlsplit(url).username or "(default user)"
        reason = f"authentication failed for user {unquote(user)}"
    elif isinstance(exc, asyncpg.InvalidCatalogNameError):
        reason = f"the database {_dbname(url)!r} does not exist (create it first)"
    elif isinstance(exc, asyncio.TimeoutError):
        reason = f"cannot reach the server at {where}: no answer in time"
    elif isinstance(exc, OSError):
        detail = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc))
        reason = f"cannot reach the server at {where}: {detail or type(exc).__name__}"
    else:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreOpenError(f"cannot open the PostgreSQL database {masked}: {reason}")


def _application_name() -> str:
    return f"render-workflows engine pid {os.getpid()} on {socket.gethostname()}"[:63]


def _settings() -> dict[str, str]:
    # Keepalives: the server notices an engine's machine gone (and ends its sessions) in about
    # 30 s instead of the system's default of hours.
    return {
        "search_path": SCHEMA,
        "application_name": _application_name(),
        "tcp_keepalives_idle": "10",
        "tcp_keepalives_interval": "5",
        "tcp_keepalives_count": "4",
    }


async def _connect(url: str, durable: bool, timeout: float = 30.0) -> asyncpg.Connection:
    settings = _settings()
    if not durable:
        settings["synchronous_commit"] = "off"
    try:
        return await asyncpg.connect(url, server_settings=settings, timeout=timeout)
    except (asyncpg.PostgresError, OSError, asyncio.TimeoutError) as exc:
        raise _open_error(url, exc) from None
    except ValueError as exc:  # a URL the driver cannot parse
        raise StoreOpenError(f"invalid PostgreSQL URL {mask_url(url)}: {exc}") from None


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset of a connection it takes back: nothing to send. The pool's connections
    only read and take sequence values (the writer and the listener have connections of their
    own), so none ever leaves a setting, a lock or a LISTEN behind for the next user; the
    default reset would cost a round trip to the server on every use."""


async def migrate(conn: asyncpg.Connection) -> int:
    """Create or bring up to date the engine's schema on ``conn``; the version it is at.

    Engines that do this at once on one database wait for each other (a transaction-level
    advisory lock): each step runs once. A database of a newer version is refused.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, _MIGRATION_LOCK)
        # Created only when missing: CREATE SCHEMA needs the CREATE privilege on the database
        # even with IF NOT EXISTS, and a schema made for the engine's user is enough.
        if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", SCHEMA):
            await conn.execute(f"CREATE SCHEMA {SCHEMA}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = int(
            await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version")
        )
        if current > LATEST_VERSION:
            raise StoreOpenError(
                f"the database's schema is at version {current}, newer than this engine knows "
                f"({LATEST_VERSION}): upgrade render_sdk, or use another database"
            )
        for number, step in MIGRATIONS:
            if number > current:
                await conn.execute(f"SET LOCAL search_path = {SCHEMA}; {step}")
                await conn.execute(
                    f"INSERT INTO {SCHEMA}.schema_version (version) VALUES ($1)", number
                )
                current = number
        return current


# --- the writer ---------------------------------------------------------------------------------
@dataclass
class _Write:
    """A queued write: ``sql`` with each of ``rows`` (consecutive writes of the same ``sql``
    run as one executemany), or ``custom`` run on the connection for a result."""

    future: asyncio.Future[Any] | None
    sql: str = ""
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    custom: Callable[[asyncpg.Connection, bool], Awaitable[Any]] | None = None
    value: Any = None  # the result of a write without ``custom``
    replay_sql: str = ""  # ``sql`` when the batch is replayed, if it differs
    ends: bool = False  # a run's end whose event id the batch gives (its ``value`` then)
    # Resolved once the write has run in the writer's transaction, before its commit (a staged
    # insert: PostgresStore.insert_run_staged).
    applied: asyncio.Future[Any] | None = None

    def statement(self, replay: bool) -> str:
        return self.replay_sql if replay and self.replay_sql else self.sql


_STOP = _Write(future=None)


# What one write can get wrong without the connection being at fault: the server refused the
# statement (a constraint, a bad value), or a value could not be encoded (asyncpg.DataError).
_WRITE_ERRORS = (asyncpg.PostgresError,)


class _Retry(Exception):
    """A write of a batch failed: run the batch again with a savepoint around each write."""


class PostgresStore:
    """The engine's store on PostgreSQL.

    store = PostgresStore("postgresql://user:password@localhost:5432/workflows")
    counters = await store.open()
    """

    def __init__(self, url: str, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self.commits = 0  # group commits so far (observable by tests and benchmarks)
        self._conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._tail: asyncio.Future[Any] | None = None  # the last run write queued
        self._listener: asyncio.Task[None] | None = None
        self._node: str | None = None  # the node this store serves, once it joined

    def __repr__(self) -> str:
        return f"PostgresStore({mask_url(self.url)!r})"

    # --- open and close ------------------------------------------------------------------------
    async def open(self) -> StoreCounters:
        conn = await _connect(self.url, self.durable)
        try:
            await migrate(conn)
            counters = await _read_counters(conn)
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=_POOL_SIZE,
                server_settings=_settings(),
                reset=_keep_session,
            )
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, asyncpg.PostgresError | OSError):
                raise _open_error(self.url, exc) from None
            raise
        self._conn = conn
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(conn))
        return counters

    async def close(self) -> None:
        listening, self._listener = self._listener, None
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(BaseException):
                await listening
        writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put_nowait(_STOP)
            with contextlib.suppress(Exception):
                await writer
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    def _check_open(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not open (await PostgresStore.open() first)")
        return self._pool

    # --- queueing writes -----------------------------------------------------------------------
    def _enqueue(self, write: _Write) -> None:
        if self._writer is None:
            raise RuntimeError("the store is not open (await PostgresStore.open() first)")
        self._queue.put_nowait(write)
        if write.future is not None:
            self._tail = write.future

    async def _caught_up(self) -> None:
        """Until every write waited for that was called so far is committed (or failed), so a
        read of runs sees them (store.py: a read sees every write called before it)."""
        tail = self._tail
        if tail is not None and not tail.done():
            await asyncio.wait([tail])

    def _write(
        self,
        sql: str = "",
        row: tuple[Any, ...] | None = None,
        custom: Callable[[asyncpg.Connection, bool], Awaitable[Any]] | None = None,
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._enqueue(_Write(future, sql, [row] if row is not None else [], custom))
        return future

    async def save_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        rows = [(t.id, t.name, t.created_at, task_spec(t)) for t in tasks]

        async def op(conn: asyncpg.Connection, replay: bool) -> None:
            await conn.executemany(
                "INSERT INTO tasks (id, name, created_at, spec) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
                rows,
            )

        await self._write(custom=op)

    def insert_run(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> asyncio.Future[InsertResult]:
        return self._queue_insert(run, idempotency, staged=False)[1]

    def insert_run_staged(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> tuple[asyncio.Future[InsertResult], asyncio.Future[InsertResult]]:
        """The insert's result once it has run in the writer's transaction (later writes, which
        go through the same connection after it, see it), and once that transaction commits.
        Other connections see the run only once it is committed: the engine holds a run it is
        starting in memory, and reports it only once it is durable."""
        return self._queue_insert(run, idempotency, staged=True)

    def _queue_insert(
        self, run: RunRecord, idempotency: tuple[str, str] | None, staged: bool
    ) -> tuple[asyncio.Future[InsertResult], asyncio.Future[InsertResult]]:
        """The (applied, committed) futures of a run's insert; one and the same unless staged."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[InsertResult] = loop.create_future()
        applied: asyncio.Future[InsertResult] | None = loop.create_future() if staged else None
        write = self._insert_write(run, idempotency, future)
        write.applied = applied
        self._enqueue(write)
        self._notify_work(run)
        return applied or future, future

    @staticmethod
    def _insert_write(
        run: RunRecord,
        idempotency: tuple[str, str] | None,
        future: asyncio.Future[InsertResult],
    ) -> _Write:
        row = _run_row(run)
        if idempotency is None:
            created = InsertResult(created=True, run_id=run.id)
            return _Write(future, _INSERT_RUN, [row], value=created, replay_sql=_INSERT_RUN_REPLAY)
        scope, key = idempotency

        async def op(conn: asyncpg.Connection, replay: bool) -> InsertResult:
            claimed = await conn.fetchval(_CLAIM_KEY, scope, key, run.id)
            if claimed is None:  # taken (by this transaction or a committed one)
                first = await conn.fetchval(
                    "SELECT run_id FROM idempotency WHERE scope = $1 AND key = $2", scope, key
                )
                # Taken by this very run: a replayed batch that had been committed.
                return InsertResult(created=replay and first == run.id, run_id=str(first))
            await conn.execute(_INSERT_RUN, *row)
            return InsertResult(created=True, run_id=run.id)

        return _Write(future, custom=op)

    def _notify_work(self, run: RunRecord) -> None:
        """A run nobody holds is there to claim: tell every node, with its insert's commit."""
        if run.owner is None and run.status is RunStatus.PENDING:
            self._enqueue(_Write(None, _NOTIFY, [(WORK_CHANNEL, "")]))

    def save_run(self, run: RunRecord) -> asyncio.Future[int | None]:
        values = (run.status.value, *_state_values(run), run.owner, run.not_before, run.id)
        sql = _SAVE_RUN
        if self._node is not None:  # a node's: dropped if the run is no longer its own
            sql, values = _SAVE_OWN_RUN, (*values, self._node)
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        ends = run.status.terminal and run.event_seq is None  # its event id given as written
        self._enqueue(_Write(future, sql, [values], ends=ends))
        if run.status.terminal:  # every node's waiters for it read it once this commits
            self._enqueue(_Write(None, _NOTIFY, [(DONE_CHANNEL, run.id)]))
        return future

    def request_cancel(self, run_id: str, ancestor: str | None = None) -> asyncio.Future[None]:
        """Ask the node holding ``run_id`` to cancel it (its subtree with it)."""
        payload = run_id if ancestor is None else f"{run_id} {ancestor}"
        return self._write(_NOTIFY, (CANCEL_CHANNEL, payload))

    async def claim_run(self, node: str, run_id: str) -> RunRecord | None:
        sql = (
            f"UPDATE runs SET owner = $1 WHERE id = $2 AND status = 'pending' "
            f"AND owner IS NULL RETURNING {RUN_COLUMNS}"
        )

        async def op(conn: asyncpg.Connection, replay: bool) -> RunRecord | None:
            row = await conn.fetchrow(sql, node, run_id)
            if row is None and replay:  # claimed by this very write before its answer was lost
                row = await conn.fetchrow(
                    f"SELECT {RUN_COLUMNS} FROM runs WHERE id = $2 AND owner = $1 "
                    "AND status = 'pending'",
                    node,
                    run_id,
                )
            return None if row is None else _run_from_row(row)

        claimed: RunRecord | None = await self._write(custom=op)
        return claimed

    async def log_block(self) -> int:
        """The first of LOG_BLOCK log line numbers of this node's own, after every number any
        node took before."""
        (start,) = await self._next_values("log_blocks", 1)
        return start

    async def _next_values(self, sequence: str, count: int) -> list[int]:
        """``count`` values of ``sequence``; while the connection is lost (the server
        restarting), tried again for up to RECONNECT_SECONDS, as writes are."""
        pool = self._check_open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECONNECT_SECONDS
        delay = 0.05
        while True:
            try:
                rows = await pool.fetch(
                    f"SELECT nextval('{sequence}') FROM generate_series(1, $1)", count
                )
                return [int(row[0]) for row in rows]
            except Exception as exc:
                if not _is_lost(exc) or loop.time() + delay > deadline:
                    raise
                _log.warning("store read lost its connection (%s); reading again", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def listen(self, listener: StoreListener) -> None:
        """Call ``listener`` on each notification of every node (a connection of its own, in
        the background until :meth:`close`); after the connection is lost and made again,
        ``listener.resync()`` (notifications meanwhile are lost)."""
        self._listener = asyncio.create_task(self._listen(listener))

    async def _listen(self, listener: StoreListener) -> None:
        handlers: dict[str, Callable[[str], None]] = {
            WORK_CHANNEL: lambda payload: listener.work(),
            DONE_CHANNEL: listener.done,
            CANCEL_CHANNEL: lambda payload: listener.cancel(*_cancel_news(payload)),
            JOIN_CHANNEL: listener.joined,
        }

        def on_notify(conn: Any, pid: int, channel: str, payload: str) -> None:
            handler = handlers.get(channel)
            if handler is not None:
                try:
                    handler(payload)
                except Exception:
                    _log.exception("a notification's handler failed")

        first = True
        while True:
            try:
                conn = await _connect(self.url, self.durable, timeout=10.0)
            except StoreOpenError as exc:
                _log.warning("cannot listen for other nodes' news: %s; trying again", exc)
                await asyncio.sleep(1.0)
                continue
            lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def on_lost(_: Any, lost: asyncio.Future[None] = lost) -> None:
                if not lost.done():
                    lost.set_result(None)

            conn.add_termination_listener(on_lost)
            try:
                for channel in handlers:
                    await conn.add_listener(channel, on_notify)
                if not first:
                    _log.warning("listening for other nodes' news again")
                    listener.resync()
                first = False
                await lost
                _log.warning("the connection that listens for other nodes' news was lost")
            except (OSError, asyncpg.PostgresError) as exc:
                _log.warning("listening for other nodes' news failed: %s", exc)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(0.5)

    def append_logs(self, lines: Sequence[LogRecord]) -> None:
        if not lines:
            return
        rows = [(x.seq, x.run_id, x.attempt, x.stream, x.timestamp, x.message) for x in lines]
        self._enqueue(_Write(None, _INSERT_LOG, rows))

    def mark_logs_truncated(self, run_id: str) -> None:
        self._enqueue(
            _Write(None, "UPDATE runs SET logs_truncated = true WHERE id = $1", [(run_id,)])
        )

    # --- reads ---------------------------------------------------------------------------------
    async def _read(self, method: str, sql: str, *args: Any) -> Any:
        """``pool.<method>(sql, *args)``, once more on another connection if the first one was
        lost (the server restarted, or ended the session)."""
        pool = self._check_open()
        try:
            return await getattr(pool, method)(sql, *args)
        except Exception as exc:
            if not _is_lost(exc):
                raise
            _log.warning("store read lost its connection (%s); reading again", exc)
        return await getattr(pool, method)(sql, *args)

    async def load_tasks(self) -> list[TaskRecord]:
        rows = await self._read(
            "fetch", "SELECT id, name, created_at, spec FROM tasks ORDER BY created_at, name"
        )
        return [task_from_row((r[0], r[1], r[2].isoformat(), r[3])) for r in rows]

    async def get_run(self, run_id: str) -> RunRecord | None:
        await self._caught_up()
        row = await self._read("fetchrow", f"SELECT {RUN_COLUMNS} FROM runs WHERE id = $1", run_id)
        return None if row is None else _run_from_row(row)

    async def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        if not run_ids:
            return {}
        await self._caught_up()
        rows = await self._read(
            "fetch", f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ANY($1::text[])", list(run_ids)
        )
        return {rec.id: rec for rec in map(_run_from_row, rows)}

    async def list_runs(
        self, filter: RunFilter, limit: int, before: int | None
    ) -> list[tuple[RunRecord, int]]:
        self._check_open()
        sql, args = _listing(filter, limit, before)
        if not sql:
            return []
        await self._caught_up()
        rows = await self._read("fetch", sql, *args)
        return [(_run_from_row(r), int(r[RUN_NCOLS])) for r in rows]

    async def get_logs(
        self, run_id: str, after: int | None, limit: int
    ) -> tuple[list[LogRecord], bool]:
        # One statement, so that the lines and the flag are of one moment.
        rows = await self._read(
            "fetch",
            "SELECT seq, run_id, attempt, stream, ts, message, "
            "(SELECT logs_truncated FROM runs WHERE id = $1) FROM "
            "(SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM logs "
            "WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS l ON true",
            run_id,
            -1 if after is None else after,
            limit,
        )
        flag = rows[0][6] if rows else None
        rows = [r for r in rows if r[0] is not None]
        lines = [
            LogRecord(
                run_id=r[1], attempt=r[2], stream=r[3], timestamp=r[4], message=r[5], seq=r[0]
            )
            for r in rows
        ]
        return lines, bool(flag)

    async def load_unfinished(self) -> list[RunRecord]:
        rows = await self._read(
            "fetch",
            f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('pending', 'running') ORDER BY pos",
        )
        return [_run_from_row(r) for r in rows]

    # --- nodes and claims (store.py) -----------------------------------------------------------
    @property
    def shared(self) -> bool:
        return True

    async def join(
        self, node: str, lease_seconds: float, tasks: Mapping[str, str] | None = None
    ) -> None:
        self._node = node
        await self._check_open().execute(
            "WITH joined AS (INSERT INTO nodes (id, expires_at, info) "
            "VALUES ($1, now() + $2 * interval '1 second', $3) "
            "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, info = excluded.info "
            "RETURNING id) SELECT pg_notify($4, id) FROM joined",
            node,
            float(lease_seconds),
            _node_info(tasks),
            JOIN_CHANNEL,
        )

    async def live_nodes(self) -> list[NodeInfo]:
        rows = await self._read(
            "fetch", "SELECT id, info FROM nodes WHERE expires_at >= now() ORDER BY id"
        )
        return [_node_from_info(row[0], row[1]) for row in rows]

    async def renew(self, node: str, lease_seconds: float) -> bool:
        status = await self._check_open().execute(
            "UPDATE nodes SET expires_at = now() + $2 * interval '1 second' WHERE id = $1",
            node,
            float(lease_seconds),
        )
        return bool(status == "UPDATE 1")

    async def sweep(self) -> dict[str, list[str]]:
        async def op(conn: asyncpg.Connection, replay: bool) -> dict[str, list[str]]:
            await conn.execute("DELETE FROM nodes WHERE expires_at < now()")
            freed = await _free(
                conn,
                "(owner IS NOT NULL AND owner NOT IN (SELECT id FROM nodes)) "
                "OR (owner IS NULL AND status = 'running')",
            )
            if freed:
                await conn.execute(_NOTIFY, WORK_CHANNEL, "")
            return freed

        result: dict[str, list[str]] = await self._write(custom=op)
        return result

    async def leave(self, node: str) -> None:
        async def op(conn: asyncpg.Connection, replay: bool) -> None:
            await conn.execute("DELETE FROM nodes WHERE id = $1", node)
            if await _free(conn, "owner = $1", node):
                await conn.execute(_NOTIFY, WORK_CHANNEL, "")

        await self._write(custom=op)

    async def release_runs(self, node: str, run_ids: Collection[str]) -> None:
        sql = (
            "UPDATE runs SET owner = NULL WHERE id = ANY($1) AND owner = $2 AND status = 'pending'"
        )

        async def op(conn: asyncpg.Connection, replay: bool) -> None:
            await conn.execute(sql, list(run_ids), node)
            await conn.execute(_NOTIFY, WORK_CHANNEL, "")

        await self._write(custom=op)

    async def claim_runs(
        self,
        node: str,
        limit: int | None,
        *,
        waiting: bool = False,
        tasks: Collection[str] | None = None,
    ) -> list[RunRecord]:
        names = None if tasks is None else sorted(set(tasks))
        claimed: list[RunRecord] = await self._write(custom=_claim_op(node, limit, waiting, names))
        return claimed

    # --- the writer task -----------------------------------------------------------------------
    async def _write_loop(self, conn: asyncpg.Connection) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            writes = [w for w in batch if w is not _STOP]
            if writes:
                conn = await self._apply(conn, writes)
            if len(writes) != len(batch):
                return

    async def _apply(self, conn: asyncpg.Connection, writes: list[_Write]) -> asyncpg.Connection:
        """One transaction for the batch; every future of it is settled, whatever fails.
        Returns the connection to go on with.

        The writes run without savepoints first; if one of them fails, the batch runs again
        with a savepoint around each write, so that only the failing write is undone. If the
        connection is lost, the writer connects again (for up to RECONNECT_SECONDS, the writes
        queued meanwhile waiting behind) and replays the batch: it may have been committed
        before the answer was lost, so a replay takes what it finds written by these same
        writes as done (an insert of a run already there, an idempotency key already this
        run's, a log line already there).
        """
        replay = False
        while True:
            try:
                outcomes = await self._commit_batch(conn, writes, replay)
            except Exception as exc:
                if not _is_lost(exc) and not conn.is_closed():
                    _log.error("store transaction failed: %s", exc)
                    _settle([(w, None, exc) for w in writes])
                    return conn
                regained = await self._reconnect(exc)
                if regained is None:
                    _settle([(w, None, exc) for w in writes])
                    return conn
                conn, replay = regained, True
                continue
            _settle(outcomes)
            return conn

    async def _commit_batch(
        self, conn: asyncpg.Connection, writes: list[_Write], replay: bool
    ) -> list[tuple[_Write, Any, BaseException | None]]:
        try:
            outcomes = await self._run_batch(conn, writes, careful=False, replay=replay)
        except _Retry:
            outcomes = await self._run_batch(conn, writes, careful=True, replay=replay)
        self.commits += 1
        return outcomes

    async def _reconnect(self, cause: BaseException) -> asyncpg.Connection | None:
        """A new writer connection after the last one was lost; None if none could be made in
        RECONNECT_SECONDS."""
        _log.warning(
            "store connection lost (%s); connecting again, writes wait meanwhile",
            str(cause) or type(cause).__name__,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECONNECT_SECONDS
        delay = 0.05
        while True:
            try:
                conn = await _connect(self.url, self.durable, timeout=10.0)
            except Exception as exc:
                if loop.time() + delay > deadline:
                    _log.error("store connection not regained: %s", exc)
                    return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            _log.warning("store connection regained")
            self._conn = conn
            return conn

    async def _run_batch(
        self, conn: asyncpg.Connection, writes: list[_Write], careful: bool, replay: bool
    ) -> list[tuple[_Write, Any, BaseException | None]]:
        outcomes: list[tuple[_Write, Any, BaseException | None]] = []
        async with conn.transaction():
            await _give_event_ids(conn, writes)
            if careful:
                for write in writes:
                    try:
                        async with conn.transaction():
                            result = await _run_one(conn, write, replay)
                    except _WRITE_ERRORS as exc:
                        if _is_lost(exc):
                            raise
                        outcomes.append((write, None, exc))
                    else:
                        outcomes.append((write, result, None))
            else:
                try:
                    for step in _steps(writes, replay):
                        if isinstance(step, _Write):  # a custom write
                            outcomes.append((step, await _run_one(conn, step, replay), None))
                            continue
                        sql, group = step
                        rows = [row for w in group for row in w.rows]
                        if len(rows) == 1:
                            await conn.execute(sql, *rows[0])
                        else:
                            await conn.executemany(sql, rows)
                        outcomes.extend((w, w.value, None) for w in group)
                except _WRITE_ERRORS as exc:
                    if _is_lost(exc):
                        raise
                    raise _Retry from None
            _tell_applied(outcomes)  # then the commit
        return outcomes


def _argument_of(sql: str, column: str) -> int:
    """The index among ``sql``'s arguments of the one ``column`` is set to."""
    found = re.search(rf"\b{column} = \$(\d+)", sql)
    assert found is not None, f"{column} is not set by {sql!r}"
    return int(found.group(1)) - 1


_EVENT_SEQ_ARG = _argument_of(_SAVE_RUN, "event_seq")  # where a save's event id goes


async def _give_event_ids(conn: asyncpg.Connection, writes: list[_Write]) -> None:
    """Give the runs that end in this batch their terminal event ids, from the database's
    sequence, in the order their ends were queued, in the batch's own transaction (one
    statement for all of them): every node's ids are larger than the ones before them."""
    ends = [write for write in writes if write.ends]
    if not ends:
        return
    rows = await conn.fetch(_EVENT_IDS, len(ends))
    for write, seq in zip(ends, sorted(int(row[0]) for row in rows), strict=True):
        row = write.rows[0]
        write.rows[0] = (*row[:_EVENT_SEQ_ARG], seq, *row[_EVENT_SEQ_ARG + 1 :])
        write.value = seq


# Statements that create rows the other writes of a batch may change (a run's insert before its
# first save): they run first within each stretch of plain writes (_steps).
_CREATING = frozenset({_INSERT_RUN, _INSERT_RUN_REPLAY})


def _steps(writes: list[_Write], replay: bool) -> list[_Write | tuple[str, list[_Write]]]:
    """The order in which a batch's writes run: each custom write on its own, in its place; the
    plain writes between two custom ones as one group per statement (one executemany each), the
    groups of _CREATING statements first, the others in the order their first write was queued.

    Within a stretch, writes of different statements commute except a row's creation and its
    later changes, which the creating groups going first keep in order; writes of one statement
    keep their order in their group. A batch of many runs ending at once so runs its saves as one
    executemany and its notifications as another, instead of alternating single statements.
    """
    steps: list[_Write | tuple[str, list[_Write]]] = []
    groups: dict[str, list[_Write]] = {}

    def flush() -> None:
        ordered = sorted(groups.items(), key=lambda item: item[0] not in _CREATING)
        steps.extend(ordered)
        groups.clear()

    for write in writes:
        if write.custom is not None:
            flush()
            steps.append(write)
        else:
            groups.setdefault(write.statement(replay), []).append(write)
    flush()
    return steps


def _listing(filter: RunFilter, limit: int, before: int | None) -> tuple[str, list[Any]]:
    """The query of one page of runs (empty when no run can match): each combination of
    filters reads its own index in pos order; several statuses are one such read per status,
    merged; a tree reads (root_id, pos)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    if filter.root_run_id is not None:
        where.append(f"root_id = {arg(filter.root_run_id)}")
    if filter.task_id is not None:
        where.append(f"task_id = {arg(filter.task_id)}")
    if filter.roots_only:
        where.append("parent_id = ''")  # a literal: the partial indexes' condition
    if before is not None:
        where.append(f"pos < {arg(before)}")
    select = f"SELECT {RUN_COLUMNS}, pos FROM runs"
    statuses = None if filter.statuses is None else sorted(s.value for s in filter.statuses)
    if statuses is not None and not statuses:
        return "", []
    if statuses is None or len(statuses) == 1 or filter.root_run_id is not None:
        if statuses is not None and len(statuses) == 1:
            where.append(f"status = {arg(statuses[0])}")
        elif statuses is not None:
            where.append(f"status = ANY({arg(statuses)}::text[])")
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return f"{select} {clause} ORDER BY pos DESC LIMIT {arg(limit)}", args
    shared = list(where)
    parts = []
    for status in statuses:
        clause = " AND ".join([f"status = {arg(status)}", *shared])
        parts.append(f"({select} WHERE {clause} ORDER BY pos DESC LIMIT {arg(limit)})")
    return " UNION ALL ".join(parts) + f" ORDER BY pos DESC LIMIT {arg(limit)}", args


def _resolve(future: asyncio.Future[Any] | None, result: Any, error: BaseException | None) -> None:
    """Give ``future`` its result or error, unless it has one already (or is None)."""
    if future is None or future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _tell_applied(outcomes: list[tuple[_Write, Any, BaseException | None]]) -> None:
    """Resolve the ``applied`` futures of the writes that ran (their transaction still open)."""
    for write, result, error in outcomes:
        if error is None:
            _resolve(write.applied, result, None)


def _settle(outcomes: list[tuple[_Write, Any, BaseException | None]]) -> None:
    for write, result, error in outcomes:
        _resolve(write.applied, result, error)
        if write.future is None and error is not None:
            _log.error("queued store write failed: %s", error)
        _resolve(write.future, result, error)


async def _run_one(conn: asyncpg.Connection, write: _Write, replay: bool) -> Any:
    if write.custom is not None:
        return await write.custom(conn, replay)
    sql = write.statement(replay)
    if len(write.rows) == 1:
        await conn.execute(sql, *write.rows[0])
    else:
        await conn.executemany(sql, write.rows)
    return write.value


def _claim_op(
    node: str, limit: int | None, waiting: bool, names: list[str] | None = None
) -> Callable[[asyncpg.Connection, bool], Awaitable[list[RunRecord]]]:
    """The write of :meth:`PostgresStore.claim_runs` (``names``: only runs of these tasks)."""
    due = "" if waiting else " AND (not_before IS NULL OR not_before <= now())"
    which = "" if names is None else " AND task_name = ANY($3::text[])"
    sql = (
        f"UPDATE runs SET owner = $1 WHERE pos IN (SELECT pos FROM runs "
        f"WHERE status = 'pending' AND owner IS NULL{due}{which} "
        f"ORDER BY pos LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {RUN_COLUMNS}, pos"
    )
    args: tuple[Any, ...] = (node, limit) if names is None else (node, limit, names)

    async def op(conn: asyncpg.Connection, replay: bool) -> list[RunRecord]:
        if replay:
            # This claim may have been committed before its answer was lost: hand back what
            # the node holds and has not started (the engine skips the runs it has already).
            rows = await conn.fetch(
                f"SELECT {RUN_COLUMNS}, pos FROM runs WHERE owner = $1 "
                "AND status = 'pending' ORDER BY pos",
                node,
            )
        else:
            rows = await conn.fetch(sql, *args)
            rows.sort(key=lambda row: int(row[RUN_NCOLS]))
        return [_run_from_row(row) for row in rows]

    return op


def _node_info(tasks: Mapping[str, str] | None) -> str:
    """The ``info`` of a node's row: JSON of where it runs and the tasks it defines (engines
    from before that kept a plain line there, which :func:`_node_from_info` reads too)."""
    said = None if tasks is None else dict(sorted(tasks.items()))
    return json.dumps({"about": _application_name(), "tasks": said}, separators=(",", ":"))


def _node_from_info(node: str, info: str) -> NodeInfo:
    try:
        found = json.loads(info)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return NodeInfo(node, None, info)
    tasks = found.get("tasks")
    said = {str(k): str(v) for k, v in tasks.items()} if isinstance(tasks, dict) else None
    return NodeInfo(node, said, str(found.get("about", "")))


def _cancel_news(payload: str) -> tuple[str, str | None]:
    """(run id, ancestor or None) of a cancel's news."""
    run_id, _, ancestor = payload.partition(" ")
    return run_id, ancestor or None


async def _free(conn: asyncpg.Connection, which: str, *args: Any) -> dict[str, list[str]]:
    """Free the unfinished runs ``which`` selects: a running attempt interrupted, no owner
    (render_sdk/engine/lifecycle.py: release). Rows another transaction holds are left to
    the next sweep."""
    rows = await conn.fetch(
        f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('pending', 'running') "
        f"AND ({which}) ORDER BY pos FOR UPDATE SKIP LOCKED",
        *args,
    )
    now = datetime.now(timezone.utc)
    freed: dict[str, list[str]] = {}
    updates = []
    for row in rows:
        rec = _run_from_row(row)
        owner = rec.owner
        lifecycle.release(rec, now)
        updates.append((rec.status.value, *_state_values(rec), None, rec.not_before, rec.id))
        freed.setdefault(owner or "", []).append(rec.id)
    if updates:
        await conn.executemany(_SAVE_RUN, updates)
    return freed


async def _read_counters(conn: asyncpg.Connection) -> StoreCounters:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ('cursor_key', $1) ON CONFLICT DO NOTHING",
        secrets.token_bytes(16),
    )
    key = await conn.fetchval("SELECT value FROM meta WHERE key = 'cursor_key'")
    event_seq = await conn.fetchval("SELECT coalesce(max(event_seq), 0) FROM runs")
    log_seq = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM logs")
    return StoreCounters(event_seq=int(event_seq), log_seq=int(log_seq), cursor_key=bytes(key))
