"""What the PostgreSQL store does beyond the conformance suite: its schema and migrations,
several nodes on one database (and what a node's claims ask of it), group commit, and clear
errors. A real cluster each time (tests/pg.py)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from datetime import datetime, timezone

import asyncpg
import pytest

from render_sdk.engine import lifecycle
from render_sdk.engine.nodes import Node
from render_sdk.engine.records import LogRecord, RunFilter, RunRecord, RunStatus
from render_sdk.engine.store import LOG_BLOCK, StoreOpenError, mask_url
from render_sdk.engine.store_postgres import (
    _INSERT_LOG,
    _INSERT_RUN,
    _INSERT_RUN_REPLAY,
    _SAVE_RUN,
    LATEST_VERSION,
    MIGRATIONS,
    PostgresStore,
    _claim_op,
    _run_row,
    _steps,
    _Write,
    migrate,
)
from render_sdk.engine.stores import make_store
from tests.pg import PASSWORD, PostgresCluster, _free_port

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def run(n: int) -> RunRecord:
    run_id = f"trn-{n:06d}"
    return RunRecord(
        id=run_id,
        task_id="tsk-a",
        task_name="a",
        status=RunStatus.PENDING,
        input=[n],
        parent_id="",
        root_id=run_id,
        created_at=T0,
    )


async def test_engines_migrating_one_fresh_database_at_once_apply_each_step_once(
    postgres_url: str,
) -> None:
    conns = [await asyncpg.connect(postgres_url) for _ in range(4)]
    try:
        versions = await asyncio.gather(*(migrate(c) for c in conns))
        assert versions == [LATEST_VERSION] * 4
        steps = await conns[0].fetch(
            "SELECT version FROM render_workflows.schema_version ORDER BY version"
        )
        assert [r[0] for r in steps] == [n for n, _ in MIGRATIONS]
        assert await migrate(conns[1]) == LATEST_VERSION  # and again: nothing to do
    finally:
        for conn in conns:
            await conn.close()


async def test_four_nodes_share_one_database_claims_counters_and_news(postgres_url: str) -> None:
    """Four stores (as four engine nodes) open one database at once: all of them open, their
    concurrent claims never share a run (FOR UPDATE SKIP LOCKED), their counters never collide,
    and the news one sends (work, a run's end, a cancel) reaches every one."""
    stores = [PostgresStore(postgres_url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    heard = [_Heard() for _ in stores]
    try:
        for store, listener in zip(stores, heard, strict=True):
            await store.join(f"nod-{id(store)}", 60)
            await store.listen(listener)
        for n in range(1, 121):  # inserted by all four, nobody holding them
            await stores[n % 4].insert_run(run(n), None)
        claims = await asyncio.gather(*(stores[i % 4].claim_runs(f"nod-{i}", 7) for i in range(24)))
        ids = [rec.id for claim in claims for rec in claim]
        assert len(ids) == len(set(ids)) == 120
        for i, claim in enumerate(claims):
            for rec in claim:
                stored = await stores[0].get_run(rec.id)
                assert stored is not None and stored.owner == f"nod-{i}"
        # Forty runs, each held by the node that runs it, end at once on the four nodes: each
        # end is given its own event id.
        ends = [run(n) for n in range(201, 241)]
        for n, rec in enumerate(ends):
            rec.owner = f"nod-{id(stores[n % 4])}"
            await stores[n % 4].insert_run(rec, None)
            rec.status = RunStatus.COMPLETED
        seqs = await asyncio.gather(*(stores[n % 4].save_run(r) for n, r in enumerate(ends)))
        assert len(set(seqs)) == 40 and all(isinstance(seq, int) for seq in seqs)
        stored = await stores[0].get_runs([rec.id for rec in ends])
        assert [stored[rec.id].event_seq for rec in ends] == seqs
        blocks = sorted(await asyncio.gather(*(s.log_block() for s in stores)))
        assert all(b - a >= LOG_BLOCK for a, b in itertools.pairwise(blocks))
        await stores[2].request_cancel("trn-000002", "trn-000001")
        for listener in heard:
            await asyncio.wait_for(listener.got(lambda h: "trn-000240" in h.ended), 60)
            await asyncio.wait_for(
                listener.got(lambda h: ("trn-000002", "trn-000001") in h.cancels), 60
            )
            assert listener.works > 0  # the inserts of runs nobody holds
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_node_gives_up_only_its_own_runs_that_have_not_started(
    postgres_url: str,
) -> None:
    """A join is news to every node; release_runs: pending runs the node holds lose their
    owner and every node hears there is work; another node's runs and running ones stay as they
    are."""
    mine, theirs = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await asyncio.gather(mine.open(), theirs.open())
    heard = _Heard()
    try:
        await theirs.join("nod-theirs", 60)
        await theirs.listen(heard)  # listening from some moment on: join until it is heard
        while "nod-mine" not in heard.joins:
            await mine.join("nod-mine", 60)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(heard.got(lambda h: "nod-mine" in h.joins), 1.0)
        assert set(heard.joins) == {"nod-mine"}
        queued, other, started = run(1), run(2), run(3)
        queued.owner = started.owner = "nod-mine"
        other.owner = "nod-theirs"
        started.status = RunStatus.RUNNING
        for rec in (queued, other, started):
            await mine.insert_run(rec, None)
        works = heard.works
        await mine.release_runs("nod-mine", ["trn-000001", "trn-000002", "trn-000003"])
        found = await theirs.get_runs(["trn-000001", "trn-000002", "trn-000003"])
        assert [found[f"trn-00000{n}"].owner for n in (1, 2, 3)] == [None, "nod-theirs", "nod-mine"]
        await asyncio.wait_for(heard.got(lambda h: h.works > works), 60)
        claimed = await theirs.claim_runs("nod-theirs", None)
        assert [rec.id for rec in claimed] == ["trn-000001"]
    finally:
        await asyncio.gather(mine.close(), theirs.close())


class _Heard:
    """A StoreListener that keeps what it heard."""

    def __init__(self) -> None:
        self.works = 0
        self.ended: list[str] = []
        self.cancels: list[tuple[str, str | None]] = []
        self.joins: list[str] = []
        self.changed = asyncio.Event()

    def joined(self, node: str) -> None:
        self.joins.append(node)
        self.changed.set()

    def work(self) -> None:
        self.works += 1
        self.changed.set()

    def done(self, run_id: str) -> None:
        self.ended.append(run_id)
        self.changed.set()

    def cancel(self, run_id: str, ancestor: str | None) -> None:
        self.cancels.append((run_id, ancestor))
        self.changed.set()

    def resync(self) -> None:
        pass

    async def got(self, check: Callable[[_Heard], bool]) -> None:
        while not check(self):
            self.changed.clear()
            await self.changed.wait()


async def test_the_tables_live_in_a_schema_of_their_own(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    await store.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema') ORDER BY tablename"
        )
    finally:
        await conn.close()
    assert {r[0] for r in tables} == {"render_workflows"}
    assert [r[1] for r in tables] == [
        "idempotency", "logs", "meta", "nodes", "runs", "schema_version", "tasks"
    ]  # fmt: skip


async def test_a_database_of_version_1_is_brought_up_to_date_and_lists_by_status(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from render_sdk.engine import store_postgres
    from render_sdk.engine.records import RunFilter

    monkeypatch.setattr(store_postgres, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(store_postgres, "LATEST_VERSION", 1)
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await migrate(conn) == 1
        await conn.executemany(
            "INSERT INTO render_workflows.runs (id, task_id, task_name, status, input, "
            "parent_id, root_id, created_at) VALUES ($1, 'tsk-a', 'a', $2, '[]', '', $1, $3)",
            [("trn-000001", "completed", T0), ("trn-000002", "failed", T0)],
        )
    finally:
        await conn.close()
    monkeypatch.undo()
    store = PostgresStore(postgres_url)
    await store.open()
    only_failed = RunFilter(statuses=frozenset({RunStatus.FAILED}), roots_only=True)
    assert [r.id for r, _ in await store.list_runs(only_failed, 10, None)] == ["trn-000002"]
    await store.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        steps = await conn.fetch("SELECT version FROM render_workflows.schema_version")
        indexes = await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'render_workflows'"
        )
    finally:
        await conn.close()
    assert sorted(r[0] for r in steps) == [n for n, _ in MIGRATIONS]
    assert {"runs_status", "runs_top_task_status"} <= {r[0] for r in indexes}


async def test_a_database_of_a_newer_schema_is_refused(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    await store.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("INSERT INTO render_workflows.schema_version (version) VALUES (999)")
    finally:
        await conn.close()
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(postgres_url).open()
    assert str(caught.value) == (
        "the database's schema is at version 999, newer than this engine knows "
        f"({LATEST_VERSION}): upgrade render_sdk, or use another database"
    )


async def test_concurrent_writes_share_commits_and_keep_their_order(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        records = [run(i) for i in range(200)]
        writes = [store.insert_run(r, None) for r in records]
        for r in records:
            r.status = RunStatus.RUNNING
            writes.append(store.save_run(r))
            r.status = RunStatus.COMPLETED
            writes.append(store.save_run(r))
        before = store.commits
        await asyncio.gather(*writes)
        assert store.commits - before < len(writes)  # group commit: fewer commits than writes
        for r in records[:5] + records[-5:]:
            stored = await store.get_run(r.id)
            assert stored is not None and stored.status is RunStatus.COMPLETED
    finally:
        await store.close()


def test_a_batch_runs_one_statement_per_kind_of_write_creating_rows_first() -> None:
    """Plain writes between two custom ones run as one group per statement, run inserts first
    (a save queued before a new run's insert must not run before it), the other groups in the
    order they were first queued; a custom write keeps its place."""

    def plain(sql: str, n: int) -> _Write:
        replay_sql = _INSERT_RUN_REPLAY if sql == _INSERT_RUN else ""
        return _Write(None, sql, [(n,)], replay_sql=replay_sql)

    async def custom(conn: object, replay: bool) -> None:
        return None

    barrier = _Write(None, custom=custom)
    writes = [
        plain(_SAVE_RUN, 1),  # a run inserted by an earlier batch
        plain(_INSERT_RUN, 2),
        plain(_INSERT_LOG, 1),
        plain(_SAVE_RUN, 2),
        plain(_INSERT_LOG, 2),
        barrier,
        plain(_SAVE_RUN, 3),
        plain(_INSERT_RUN, 3),
    ]
    steps = [
        step if isinstance(step, _Write) else (step[0], [w.rows[0][0] for w in step[1]])
        for step in _steps(writes, replay=False)
    ]
    assert steps == [
        (_INSERT_RUN, [2]),
        (_SAVE_RUN, [1, 2]),
        (_INSERT_LOG, [1, 2]),
        barrier,
        (_INSERT_RUN, [3]),
        (_SAVE_RUN, [3]),
    ]
    replayed = _steps(writes[:2], replay=True)
    assert [step[0] for step in replayed if isinstance(step, tuple)] == [
        _INSERT_RUN_REPLAY,
        _SAVE_RUN,
    ]


async def test_writes_of_many_runs_in_one_batch_all_land(postgres_url: str) -> None:
    """Inserts, saves, log lines and an idempotent insert interleaved in one batch (queued
    without a pause, as runs starting and ending at once are): every write lands, each run in
    its last saved state."""
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        earlier = run(0)
        await store.insert_run(earlier, None)
        before = store.commits
        records = [run(i) for i in range(1, 61)]
        writes: list[asyncio.Future[object]] = []
        earlier.status = RunStatus.RUNNING
        writes.append(store.save_run(earlier))
        for r in records:
            writes.append(store.insert_run(r, ("scope", r.id) if r.id.endswith("7") else None))
            r.status = RunStatus.RUNNING
            writes.append(store.save_run(r))
            store.append_logs([LogRecord(r.id, 0, "stdout", T0, "hello", seq=int(r.id[4:]))])
            r.status = RunStatus.COMPLETED
            writes.append(store.save_run(r))
        earlier.status = RunStatus.FAILED
        writes.append(store.save_run(earlier))
        await asyncio.gather(*writes)
        assert store.commits - before == 1  # all of it one batch
        stored = {r.id: r for r, _ in await store.list_runs(_all(), 100, None)}
        assert stored[earlier.id].status is RunStatus.FAILED
        assert {stored[r.id].status for r in records} == {RunStatus.COMPLETED}
        lines, _ = await store.get_logs(records[-1].id, None, 10)
        assert [line.message for line in lines] == ["hello"]
    finally:
        await store.close()


async def test_a_failing_write_in_a_batch_fails_alone(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        await store.insert_run(run(1), None)
        ok_before = store.insert_run(run(2), None)
        duplicate = store.insert_run(run(1), None)
        ok_after = store.insert_run(run(3), None)
        assert (await ok_before).created and (await ok_after).created
        with pytest.raises(asyncpg.UniqueViolationError):
            await duplicate
        assert [r.id for r, _ in await store.list_runs(_all(), 10, None)] == [
            "trn-000003", "trn-000002", "trn-000001"
        ]  # fmt: skip
    finally:
        await store.close()


def _all() -> object:
    from render_sdk.engine.records import RunFilter

    return RunFilter()


async def test_one_idempotency_key_sent_many_times_at_once_makes_one_run(
    postgres_url: str,
) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        results = await asyncio.gather(
            *(store.insert_run(run(i), ("rest", "same")) for i in range(1, 21))
        )
        assert sum(r.created for r in results) == 1
        assert {r.run_id for r in results} == {"trn-000001"}
        assert len(await store.list_runs(_all(), 100, None)) == 1  # type: ignore[arg-type]
    finally:
        await store.close()


async def test_writes_and_reads_ride_out_a_lost_connection(
    postgres_url: str, postgres_cluster: PostgresCluster
) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        await store.insert_run(run(1), None)
        dbname = postgres_url.rsplit("/", 1)[1]
        postgres_cluster.sql(  # every session of the engine ended by the server
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            f"'{dbname}' AND pid <> pg_backend_pid()"
        )
        done = run(1)
        done.status = RunStatus.COMPLETED
        await asyncio.gather(store.save_run(done), store.insert_run(run(2), ("rest", "k")))
        stored = await store.get_run("trn-000001")
        assert stored is not None and stored.status is RunStatus.COMPLETED
        assert (await store.get_run("trn-000002")) == run(2)
    finally:
        await store.close()


async def test_writes_queued_while_the_server_restarts_are_all_committed(
    postgres_url: str, postgres_cluster: PostgresCluster
) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        await store.insert_run(run(0), None)
        postgres_cluster.restart()
        writes = [store.insert_run(run(i), None) for i in range(1, 51)]
        results = await asyncio.gather(*writes)
        assert all(r.created for r in results)
        listed = await store.list_runs(RunFilter(), 100, None)
        assert len(listed) == 51
        other = PostgresStore(postgres_url)  # another node sees them all
        await other.open()
        try:
            assert len(await other.list_runs(RunFilter(), 100, None)) == 51
        finally:
            await other.close()
    finally:
        await store.close()


async def test_a_replayed_batch_takes_its_own_committed_writes_as_done(postgres_url: str) -> None:
    """After a connection lost at the commit, the batch may be on disk already: replaying it
    (hard to provoke at that exact moment, so called directly) neither fails nor duplicates."""
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        first = run(1)
        await store.insert_run(first, None)
        await store.insert_run(run(2), ("rest", "k"))
        store.append_logs([_line(5)])
        await store.save_run(first)
        writer = store._conn
        assert writer is not None
        loop = asyncio.get_running_loop()
        plain = _Write(loop.create_future(), _INSERT_RUN, [_run_row(first)], value="made")
        plain.replay_sql = _INSERT_RUN_REPLAY
        logs = _Write(None, _INSERT_LOG, [_log_row(_line(5))])
        outcomes = await store._commit_batch(writer, [plain, logs], replay=True)
        assert [(o[1], o[2]) for o in outcomes] == [("made", None), (None, None)]
        replayed = await store.insert_run(run(3), None)  # the store goes on as before
        assert replayed.created
        again = store.insert_run(run(2), ("rest", "k"))
        assert (await again).run_id == "trn-000002"
        assert len(await store.list_runs(RunFilter(), 10, None)) == 3
        assert len((await store.get_logs("trn-000001", None, 10))[0]) == 1
    finally:
        await store.close()


async def test_a_node_whose_lease_lapsed_cannot_overwrite_the_new_holder(
    postgres_url: str,
) -> None:
    """Fencing: once the runs of a node whose lease lapsed were taken by another node, what the
    first node still writes of them is dropped; the new holder's writes stand."""
    slow, other = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await asyncio.gather(slow.open(), other.open())
    try:
        await slow.join("nod-slow", 0.05)
        await other.join("nod-other", 600)
        mine = run(1)
        mine.owner = "nod-slow"
        await slow.insert_run(mine, None)
        mine.status = RunStatus.RUNNING
        await slow.save_run(mine)  # its own: written
        stored = await other.get_run("trn-000001")
        assert stored is not None and stored.status is RunStatus.RUNNING
        await asyncio.sleep(0.3)  # at least this long: the lease has lapsed
        assert await other.sweep() == {"nod-slow": ["trn-000001"]}
        (taken,) = await other.claim_runs("nod-other", None)
        taken.status = RunStatus.RUNNING
        await other.save_run(taken)
        late = mine.copy()
        late.status, late.results, late.event_seq = RunStatus.COMPLETED, ["stale"], 1
        late.owner = None
        await slow.save_run(late)  # no longer its own: dropped
        stored = await slow.get_run("trn-000001")
        assert stored is not None and stored.owner == "nod-other"
        assert stored.status is RunStatus.RUNNING and stored.results is None
        assert not await slow.renew("nod-slow", 600)  # and it learns it lost its lease
    finally:
        await asyncio.gather(slow.close(), other.close())


async def test_a_replayed_claim_hands_back_the_runs_it_had_claimed(postgres_url: str) -> None:
    """A claim whose commit's answer was lost is replayed: the runs it took are this node's
    already, so the replay returns the node's runs not started yet instead of taking more."""
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        for n in range(1, 6):
            await store.insert_run(run(n), None)
        first = await store.claim_runs("nod-a", 2)  # committed; say its answer was lost
        writer = store._conn
        assert writer is not None
        claim = _Write(
            asyncio.get_running_loop().create_future(), custom=_claim_op("nod-a", 2, False)
        )
        ((_, replayed, error),) = await store._commit_batch(writer, [claim], replay=True)
        assert error is None and replayed == first
        assert [r.id for r in await store.claim_runs("nod-b", None)] == [
            "trn-000003", "trn-000004", "trn-000005"
        ]  # fmt: skip
    finally:
        await store.close()


def _line(seq: int) -> LogRecord:
    return LogRecord("trn-000001", 1, "stdout", T0, "hi", seq=seq)


def _log_row(x: LogRecord) -> tuple[object, ...]:
    return (x.seq, x.run_id, x.attempt, x.stream, x.timestamp, x.message)


# --- errors a user can cause ------------------------------------------------------------------
async def test_a_wrong_password_is_one_clear_line_without_the_password(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    dbname = postgres_url.rsplit("/", 1)[1]
    url = postgres_cluster.url(dbname, password="Wr0ng-pass")
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(url).open()
    assert str(caught.value) == (
        f"cannot open the PostgreSQL database postgresql://render:***@127.0.0.1:"
        f"{postgres_cluster.port}/{dbname}: authentication failed for user render"
    )


async def test_a_missing_database_is_one_clear_line(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.url("no_such_db")
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert message.endswith("the database 'no_such_db' does not exist (create it first)")
    assert PASSWORD not in message


async def test_an_unreachable_server_names_host_and_port() -> None:
    port = _free_port()
    url = f"postgresql://render:{PASSWORD}@127.0.0.1:{port}/x"
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the PostgreSQL database postgresql://render:***@127.0.0.1:{port}/x: "
        f"cannot reach the server at 127.0.0.1:{port}: "
    )
    assert "refused" in message.lower() and PASSWORD not in message


def test_the_factory_picks_the_store_by_the_db_setting(tmp_path: object) -> None:
    from render_sdk.engine.store_sqlite import SQLiteStore

    assert isinstance(make_store("postgresql://u:p@h/db"), PostgresStore)
    assert isinstance(make_store("postgres://u:p@h/db"), PostgresStore)
    assert isinstance(make_store("POSTGRESQL://h/db"), PostgresStore)
    assert isinstance(make_store(":memory:"), SQLiteStore)
    assert isinstance(make_store("runs/postgres.db"), SQLiteStore)
    assert "p@" not in repr(make_store("postgresql://u:p@h/db"))


def test_passwords_are_masked_wherever_they_are() -> None:
    assert mask_url("postgresql://app:s3cret@db:5432/runs") == "postgresql://app:***@db:5432/runs"
    assert mask_url("postgres://app@db/runs") == "postgres://app@db/runs"
    assert "s3cret" not in mask_url("postgresql://db/runs?user=app&password=s3cret")
    assert "p:ss" not in mask_url("postgresql://app:p:ss@db/runs")
    assert mask_url("runs.db") == "runs.db"


def test_without_the_driver_the_factory_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "render_sdk.engine.store_postgres")
    with pytest.raises(StoreOpenError) as caught:
        make_store("postgresql://u:p@h/db")
    assert str(caught.value) == (
        "a PostgreSQL database needs the postgres extra (asyncpg is not installed): "
        "install render_sdk[postgres]"
    )


async def _until_a_session_waits_on_a_lock(url: str, timeout: float = 60.0) -> None:
    watcher = await asyncpg.connect(url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ):
            assert asyncio.get_running_loop().time() < deadline, "nobody waits on a lock"
            await asyncio.sleep(0.02)
    finally:
        await watcher.close()


async def test_a_key_taken_by_a_concurrent_transaction_gives_its_run(postgres_url: str) -> None:
    """The same idempotency key from another connection at the same moment: the store's insert
    waits for that transaction and answers with its run, never a second one."""
    store = PostgresStore(postgres_url)
    await store.open()
    other = await asyncpg.connect(postgres_url)
    try:
        async with other.transaction():
            await other.execute(
                "INSERT INTO render_workflows.idempotency (scope, key, run_id) "
                "VALUES ('rest', 'k', 'trn-other')"
            )
            racing = asyncio.ensure_future(store.insert_run(run(1), ("rest", "k")))
            await _until_a_session_waits_on_a_lock(postgres_url)  # the uncommitted key
            assert not racing.done()
        result = await racing
        assert not result.created and result.run_id == "trn-other"
        assert await store.get_run("trn-000001") is None
    finally:
        await other.close()
        await store.close()


async def test_a_value_the_driver_cannot_send_fails_that_write_alone(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        bad = run(1)
        bad.retries = "many"  # type: ignore[assignment]
        good = store.insert_run(run(2), None)
        failing = store.insert_run(bad, None)
        assert (await good).created
        with pytest.raises(asyncpg.DataError, match="'many'"):
            await failing
        assert (await store.insert_run(run(3), None)).created
    finally:
        await store.close()


async def test_a_user_who_may_not_create_the_schema_is_told(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    dbname = postgres_url.rsplit("/", 1)[1]
    postgres_cluster.sql(f"CREATE ROLE limited_{dbname} LOGIN PASSWORD 'lim-pass-1'")
    url = postgres_url.replace(f"render:{PASSWORD}", f"limited_{dbname}:lim-pass-1")
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert message.startswith(f"cannot open the PostgreSQL database postgresql://limited_{dbname}:")
    assert message.endswith(f"permission denied for database {dbname}")
    assert "lim-pass-1" not in message and "\n" not in message
    # What the message suggests: a schema made for that user is enough.
    postgres_cluster.sql(f"CREATE SCHEMA render_workflows AUTHORIZATION limited_{dbname}", dbname)
    store = PostgresStore(url)
    await store.open()
    try:
        assert (await store.insert_run(run(1), None)).created
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url",
    ["postgresql://app:s3cret-pw@127.0.0.1:notaport/db", "postgresql://app:s3cret-pw@[::1/db"],
)
async def test_a_malformed_url_is_one_line_without_the_password(url: str) -> None:
    with pytest.raises(StoreOpenError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert "s3cret-pw" not in message and "\n" not in message
    assert message.startswith("invalid PostgreSQL URL postgresql://")


class _Host:
    """A NodeHost that records what the node hands it."""

    def __init__(self) -> None:
        self.taken: list[RunRecord] = []
        self.blocks: list[int] = []

    def free_slots(self) -> int:
        return 10

    async def take(self, records: list[RunRecord]) -> None:
        self.taken.extend(records)

    async def cancel_here(self, run_id: str, ancestor: str | None = None) -> None:
        raise AssertionError("no cancel expected")

    def log_block(self, start: int) -> None:
        self.blocks.append(start)


async def _until(condition: object, what: str) -> None:
    for _ in range(600):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited in vain for {what}")


async def test_only_a_claim_of_runs_that_ran_before_takes_a_fresh_log_block(
    postgres_url: str,
) -> None:
    """A node's claim of runs that never ran takes no fresh block of log line numbers; a claim
    of a run that ran before (on a node that is gone) takes one, so that the run's new lines
    come after its earlier ones (render_sdk/engine/nodes.py)."""
    store, other = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await store.open()
    await other.open()
    node = Node(store, "nod-here", lease_seconds=60)
    host = _Host()
    try:
        await node.join()
        node.start(host)
        for n in (1, 2, 3):  # new runs nobody holds (another node could not start them)
            await other.insert_run(run(n), None)
        await _until(lambda: len(host.taken) == 3, "the three new runs to be claimed")
        assert host.blocks == []  # they never ran: no lines to come after

        moved = run(4)  # ran on a node that died: its attempt was interrupted, it is free
        lifecycle.start(moved, lifecycle.new_attempt(moved, T0), T0)
        lifecycle.release(moved, T0)
        assert moved.attempts and moved.owner is None and moved.status is RunStatus.PENDING
        await other.insert_run(moved, None)
        await _until(lambda: len(host.taken) == 4, "the moved run to be claimed")
        assert len(host.blocks) == 1  # a fresh block for its new lines
    finally:
        await node.leave()
        await store.close()
        await other.close()


async def test_a_staged_insert_is_applied_in_the_transaction_then_committed(
    postgres_url: str,
) -> None:
    """insert_run_staged: the first result once the insert has run in the writer's transaction
    (before its commit), the second once committed; a taken idempotency key and a refused
    insert are known at the first."""
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        order: list[str] = []
        applied, committed = store.insert_run_staged(run(1), None)
        applied.add_done_callback(lambda f: order.append("applied"))
        committed.add_done_callback(lambda f: order.append("committed"))
        result = await applied
        assert result.created and result.run_id == "trn-000001"
        await committed
        await asyncio.sleep(0)  # the done callbacks run
        assert order == ["applied", "committed"]
        assert await store.get_run("trn-000001") is not None
        assert (await store.insert_run(run(2), ("rest", "k"))).created
        applied, committed = store.insert_run_staged(run(3), ("rest", "k"))
        assert (await applied) == (await committed)
        assert not (await applied).created and (await applied).run_id == "trn-000002"
        applied, committed = store.insert_run_staged(run(1), None)  # its id is taken
        with pytest.raises(asyncpg.UniqueViolationError):
            await applied
        with pytest.raises(asyncpg.UniqueViolationError):
            await committed
    finally:
        await store.close()
