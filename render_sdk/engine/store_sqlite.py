"""SQLite implementation of :class:`~render_sdk.engine.store.Store`.

One file (``.render/workflows.db`` by default) in WAL mode, or ``:memory:``. All statements run on
the group-commit thread of :class:`~render_sdk.engine._writer.SQLiteWriter`. ``durable=True`` sets
``synchronous=FULL``: each group commit is fsynced before its writers hear back, so a committed run
survives a power loss. ``durable=False`` sets ``synchronous=NORMAL``: committed data survives a
crash of the engine but the last commits may be lost with the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from render_sdk.engine import lifecycle
from render_sdk.engine._stored import (
    RUN_COLUMNS,
    RUN_NCOLS,
    from_iso,
    iso,
    run_from_row,
    run_row,
    state_values,
    task_from_row,
    task_spec,
)
from render_sdk.engine._writer import SQLiteWriter
from render_sdk.engine.records import (
    LogRecord,
    RunFilter,
    RunRecord,
    TaskRecord,
)
from render_sdk.engine.store import InsertResult, LocalLeases, NodeInfo, StoreCounters

_IDS_PER_READ = 500  # run ids per statement of get_runs (well under SQLite's variable limit)

# The schema's version is SQLite's ``user_version``; a file from before versions were kept reads 0.
# Version 1 is the tables as first written (``IF NOT EXISTS``: such a file keeps its data); each
# later version is one step in _MIGRATIONS, run in its own transaction with the version bump.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    task_id TEXT NOT NULL,
    task_name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    root_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retries INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    completed_at TEXT,
    results TEXT,
    error TEXT,
    event_seq INTEGER,
    attempts TEXT NOT NULL DEFAULT '[]',
    logs_truncated INTEGER NOT NULL DEFAULT 0,
    parent_attempt INTEGER
);
CREATE INDEX IF NOT EXISTS runs_task ON runs (task_id, pos);
CREATE INDEX IF NOT EXISTS runs_root ON runs (root_id, pos);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    ts TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""

_MIGRATIONS: dict[int, str] = {
    # Listing by status and root runs only: an index for each combination of the filters
    # (task, status, root runs only), each ending in pos, so that a page of any of them reads
    # only its own rows, newest first (docs/engine.md, "Listing runs"). The root-only ones are
    # partial: subtasks, most runs of a fan-out, do not pay for them.
    2: """
CREATE INDEX runs_status ON runs (status, pos);
CREATE INDEX runs_task_status ON runs (task_id, status, pos);
CREATE INDEX runs_top ON runs (pos) WHERE parent_id = '';
CREATE INDEX runs_top_status ON runs (status, pos) WHERE parent_id = '';
CREATE INDEX runs_top_task ON runs (task_id, pos) WHERE parent_id = '';
CREATE INDEX runs_top_task_status ON runs (task_id, status, pos) WHERE parent_id = '';
""",
    # Why each run is in its status (the reason of its last move: render_sdk/engine/lifecycle.py)
    # and the fact its label names; an attempt's reason lives in its item of ``attempts``.
    3: """
ALTER TABLE runs ADD COLUMN reason TEXT;
ALTER TABLE runs ADD COLUMN reason_detail TEXT;
""",
    # The node holding each run and when a run in a retry wait may start again (store.py,
    # "Nodes and claims"); the claimable runs read off their own index, oldest first.
    4: """
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN not_before TEXT;
CREATE INDEX runs_claimable ON runs (pos) WHERE status = 'pending' AND owner IS NULL;
""",
}
SCHEMA_VERSION = max(_MIGRATIONS)


class StoreTooNew(RuntimeError):
    """The database was written by a newer version of this package."""


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema, or bring an older file's schema up to :data:`SCHEMA_VERSION`."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreTooNew(
            f"the database {path} has schema version {version}, written by a newer render_sdk "
            f"(this one knows versions up to {SCHEMA_VERSION}): upgrade render_sdk, or use "
            "another database file"
        )
    if version < 1:
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA_V1.split(";"):
            if statement.strip():
                conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        if "parent_attempt" not in columns:  # a file written before the column existed
            conn.execute("ALTER TABLE runs ADD COLUMN parent_attempt INTEGER")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("COMMIT")
        version = 1
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        for statement in _MIGRATIONS[target].split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")


def _run_row(run: RunRecord) -> tuple[Any, ...]:
    return run_row(run, iso)


def _state_values(run: RunRecord) -> tuple[Any, ...]:
    return state_values(run, iso)


def _run_from_row(row: sqlite3.Row | tuple[Any, ...]) -> RunRecord:
    return run_from_row(row, from_iso)


class StoreInUse(RuntimeError):
    """Another engine has this database file open."""


class SQLiteStore:
    """The engine's store on SQLite (file in WAL mode, or ``:memory:``).

    store = SQLiteStore(".render/workflows.db", durable=True)
    counters = await store.open()
    """

    def __init__(self, path: str, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self._writer = SQLiteWriter(self._connect)
        self._lock_fd: int | None = None
        self._leases = LocalLeases()

    @property
    def commits(self) -> int:
        """Group commits made so far."""
        return self._writer.commits

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA busy_timeout=5000")
        try:
            _migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _lock(self) -> None:
        """Hold ``<db>.lock`` so that a second engine on the same file fails clearly."""
        if self.path == ":memory:" or self._lock_fd is not None:
            return
        lock_path = Path(self.path + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreInUse(
                f"the database {self.path} is in use by another engine (pid {owner}); "
                "stop that engine or use another database file"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None

    async def open(self) -> StoreCounters:
        self._lock()
        self._leases = LocalLeases()  # one node at a time: every earlier one is gone
        try:
            self._writer.start(asyncio.get_running_loop())
            return await self._writer.write(_read_counters)
        except BaseException:
            self._unlock()
            raise

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._writer.stop)
        self._unlock()

    # --- tasks ------------------------------------------------------------------------------
    async def save_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        rows = [(t.id, t.name, iso(t.created_at), task_spec(t)) for t in tasks]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO tasks (id, name, created_at, spec) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
                rows,
            )

        await self._writer.write(op)

    async def load_tasks(self) -> list[TaskRecord]:
        def op(conn: sqlite3.Connection) -> list[TaskRecord]:
            rows = conn.execute(
                "SELECT id, name, created_at, spec FROM tasks ORDER BY created_at, name"
            ).fetchall()
            return [task_from_row(r) for r in rows]

        return await self._writer.read(op)

    # --- runs -------------------------------------------------------------------------------
    def insert_run(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> asyncio.Future[InsertResult]:
        return self._writer.write(self._insert_op(run, idempotency))

    def insert_run_staged(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> tuple[Awaitable[InsertResult], Awaitable[None]]:
        return self._writer.write_staged(self._insert_op(run, idempotency))

    @staticmethod
    def _insert_op(
        run: RunRecord, idempotency: tuple[str, str] | None
    ) -> Callable[[sqlite3.Connection], InsertResult]:
        row = _run_row(run)

        def op(conn: sqlite3.Connection) -> InsertResult:
            if idempotency is not None:
                found = conn.execute(
                    "SELECT run_id FROM idempotency WHERE scope = ? AND key = ?", idempotency
                ).fetchone()
                if found is not None:
                    return InsertResult(created=False, run_id=found[0])
                conn.execute(
                    "INSERT INTO idempotency (scope, key, run_id) VALUES (?, ?, ?)",
                    (*idempotency, run.id),
                )
            marks = ",".join("?" * RUN_NCOLS)
            conn.execute(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({marks})", row)
            return InsertResult(created=True, run_id=run.id)

        return op

    def _save_op(self, run: RunRecord) -> Any:
        values = (run.status.value, *_state_values(run), run.owner, iso(run.not_before), run.id)

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE runs SET status = ?, retries = ?, started_at = ?, completed_at = ?, "
                "results = ?, error = ?, event_seq = ?, attempts = ?, reason = ?, "
                "reason_detail = ?, owner = ?, not_before = ? WHERE id = ?",
                values,
            )

        return op

    def save_run(self, run: RunRecord) -> asyncio.Future[None]:
        return self._writer.write(self._save_op(run))

    def append_logs(self, lines: Sequence[LogRecord]) -> None:
        rows = [(x.seq, x.run_id, x.attempt, x.stream, iso(x.timestamp), x.message) for x in lines]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO logs (seq, run_id, attempt, stream, ts, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

        self._writer.write_nowait(op)

    def mark_logs_truncated(self, run_id: str) -> None:
        self._writer.write_nowait(
            lambda conn: conn.execute("UPDATE runs SET logs_truncated = 1 WHERE id = ?", (run_id,))
        )

    async def get_run(self, run_id: str) -> RunRecord | None:
        def op(conn: sqlite3.Connection) -> RunRecord | None:
            row = conn.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            return _run_from_row(row)

        return await self._writer.read(op)

    async def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        ids = list(dict.fromkeys(run_ids))

        def op(conn: sqlite3.Connection) -> dict[str, RunRecord]:
            found: dict[str, RunRecord] = {}
            for start in range(0, len(ids), _IDS_PER_READ):
                chunk = ids[start : start + _IDS_PER_READ]
                marks = ", ".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT {RUN_COLUMNS} FROM runs WHERE id IN ({marks})", chunk
                ):
                    rec = _run_from_row(row)
                    found[rec.id] = rec
            return found

        return await self._writer.read(op) if ids else {}

    async def list_runs(
        self, filter: RunFilter, limit: int, before: int | None
    ) -> list[tuple[RunRecord, int]]:
        sql, args = _listing(filter, limit, before)

        def op(conn: sqlite3.Connection) -> list[tuple[RunRecord, int]]:
            if not sql:
                return []
            rows = conn.execute(sql, args).fetchall()
            return [(_run_from_row(r), int(r[RUN_NCOLS])) for r in rows]

        return await self._writer.read(op)

    async def get_logs(
        self, run_id: str, after: int | None, limit: int
    ) -> tuple[list[LogRecord], bool]:
        def op(conn: sqlite3.Connection) -> tuple[list[LogRecord], bool]:
            rows = conn.execute(
                "SELECT seq, run_id, attempt, stream, ts, message FROM logs "
                "WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, -1 if after is None else after, limit),
            ).fetchall()
            flag = conn.execute(
                "SELECT logs_truncated FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            lines = [
                LogRecord(
                    run_id=r[1],
                    attempt=r[2],
                    stream=r[3],
                    timestamp=datetime.fromisoformat(r[4]),
                    message=r[5],
                    seq=r[0],
                )
                for r in rows
            ]
            return lines, bool(flag and flag[0])

        return await self._writer.read(op)

    async def load_unfinished(self) -> list[RunRecord]:
        def op(conn: sqlite3.Connection) -> list[RunRecord]:
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('pending', 'running') "
                "ORDER BY pos"
            ).fetchall()
            return [_run_from_row(r) for r in rows]

        return await self._writer.read(op)

    # --- nodes and claims: one node at a time, its lease kept in memory -----------------------
    @property
    def shared(self) -> bool:
        return False

    async def join(
        self, node: str, lease_seconds: float, tasks: Mapping[str, str] | None = None
    ) -> None:
        self._leases.join(node, lease_seconds, tasks)

    async def live_nodes(self) -> list[NodeInfo]:
        return self._leases.live()

    async def renew(self, node: str, lease_seconds: float) -> bool:
        return self._leases.renew(node, lease_seconds)

    async def sweep(self) -> dict[str, list[str]]:
        live = self._leases.expire()
        return await self._writer.write(lambda conn: _free(conn, lambda o: o not in live))

    async def leave(self, node: str) -> None:
        self._leases.leave(node)
        await self._writer.write(lambda conn: _free(conn, lambda o: o == node))

    async def claim_runs(
        self,
        node: str,
        limit: int | None,
        *,
        waiting: bool = False,
        tasks: Collection[str] | None = None,
    ) -> list[RunRecord]:
        names = None if tasks is None else sorted(set(tasks))

        def op(conn: sqlite3.Connection) -> list[RunRecord]:
            sql = (
                f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'pending' AND owner IS NULL"
                + ("" if waiting else " AND (not_before IS NULL OR not_before <= ?)")
                + ("" if names is None else f" AND task_name IN ({', '.join('?' * len(names))})")
                + " ORDER BY pos LIMIT ?"
            )
            args: list[Any] = [] if waiting else [iso(datetime.now(timezone.utc))]
            args.extend(names or ())
            rows = conn.execute(sql, [*args, -1 if limit is None else limit]).fetchall()
            claimed = [_run_from_row(row) for row in rows]
            for rec in claimed:
                rec.owner = node
            conn.executemany(
                "UPDATE runs SET owner = ? WHERE id = ?", [(node, r.id) for r in claimed]
            )
            return claimed

        return await self._writer.write(op)


def _free(conn: sqlite3.Connection, gone: Callable[[str | None], bool]) -> dict[str, list[str]]:
    """Free the unfinished runs whose owner is ``gone`` (an unowned one only if running)."""
    rows = conn.execute(
        f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('pending', 'running') "
        "AND (owner IS NOT NULL OR status = 'running') ORDER BY pos"
    ).fetchall()
    now = datetime.now(timezone.utc)
    freed: dict[str, list[str]] = {}
    for row in rows:
        rec = _run_from_row(row)
        owner = rec.owner
        if not gone(owner):
            continue
        lifecycle.release(rec, now)
        values = (rec.status.value, *_state_values(rec), rec.id)
        conn.execute(
            "UPDATE runs SET status = ?, retries = ?, started_at = ?, completed_at = ?, "
            "results = ?, error = ?, event_seq = ?, attempts = ?, reason = ?, "
            "reason_detail = ?, owner = NULL WHERE id = ?",
            values,
        )
        freed.setdefault(owner or "", []).append(rec.id)
    return freed


def _listing(filter: RunFilter, limit: int, before: int | None) -> tuple[str, list[Any]]:
    """The query of one page of runs (empty when no run can match).

    Every combination of filters has an index made of its equality columns and ``pos``, so the
    page is read newest first straight off the index (see _MIGRATIONS). Several statuses are one
    such read per status, merged. A tree (``root_run_id``) is read off its own index, the other
    filters checked row by row (a unary ``+`` keeps a column's index out of the plan).
    """
    where: list[str] = []
    args: list[Any] = []
    tree = filter.root_run_id is not None
    other = "+" if tree else ""
    if tree:
        where.append("root_id = ?")
        args.append(filter.root_run_id)
    if filter.task_id is not None:
        where.append(f"{other}task_id = ?")
        args.append(filter.task_id)
    if filter.roots_only:
        where.append(f"{other}parent_id = ''")  # a literal: the partial indexes' condition
    if before is not None:
        where.append("pos < ?")
        args.append(before)
    select = f"SELECT {RUN_COLUMNS}, pos FROM runs"
    if filter.statuses is None:
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return f"{select} {clause} ORDER BY pos DESC LIMIT ?", [*args, limit]
    statuses = sorted(s.value for s in filter.statuses)
    if not statuses:
        return "", []
    if tree or len(statuses) == 1:
        marks = ",".join("?" * len(statuses))
        clause = " AND ".join([f"{other}status IN ({marks})", *where])
        return f"{select} WHERE {clause} ORDER BY pos DESC LIMIT ?", [*statuses, *args, limit]
    clause = " AND ".join(["status = ?", *where])
    parts: list[str] = []
    merged: list[Any] = []
    for status in statuses:
        parts.append(f"SELECT * FROM ({select} WHERE {clause} ORDER BY pos DESC LIMIT ?)")
        merged += [status, *args, limit]
    return " UNION ALL ".join(parts) + " ORDER BY pos DESC LIMIT ?", [*merged, limit]


def _read_counters(conn: sqlite3.Connection) -> StoreCounters:
    row = conn.execute("SELECT value FROM meta WHERE key = 'cursor_key'").fetchone()
    if row is None:
        key = secrets.token_bytes(16)
        conn.execute("INSERT INTO meta (key, value) VALUES ('cursor_key', ?)", (key,))
    else:
        key = bytes(row[0])
    event_seq = conn.execute("SELECT max(event_seq) FROM runs").fetchone()[0] or 0
    log_seq = conn.execute("SELECT max(seq) FROM logs").fetchone()[0] or 0
    return StoreCounters(event_seq=int(event_seq), log_seq=int(log_seq), cursor_key=key)
