"""The benchmarks' PostgreSQL: one throwaway cluster (tests/pgcluster.py) with fsync on, as a
production server would run, shared by the engine on PostgreSQL and by DBOS (a database each)."""

from __future__ import annotations

import asyncio

from bench._procs import NotMeasured


class BenchPostgres:
    """Started on first use, stopped by :meth:`stop`.

    pg = BenchPostgres()
    url = pg.new_database_url()
    """

    def __init__(self) -> None:
        self._cluster: object | None = None

    def new_database_url(self) -> str:
        """The URL of a new, empty database (starting the cluster if needed)."""
        from tests.pgcluster import INSTALL_HINT, PostgresCluster, find_bin_dir

        if self._cluster is None:
            bin_dir = find_bin_dir()
            if bin_dir is None:
                raise NotMeasured(INSTALL_HINT)
            cluster = PostgresCluster(bin_dir, durable=True)
            try:
                cluster.start()
            except RuntimeError as exc:
                cluster.stop()
                raise NotMeasured(f"the PostgreSQL cluster did not start: {exc}") from exc
            self._cluster = cluster
        assert isinstance(self._cluster, PostgresCluster)
        return self._cluster.url(self._cluster.create_database())

    def stop(self) -> None:
        if self._cluster is None:
            return  # never started: nothing to import or stop
        from tests.pgcluster import PostgresCluster

        if isinstance(self._cluster, PostgresCluster):
            self._cluster.stop()
        self._cluster = None


# The database server's own counters: transactions committed in one database, and WAL flushes
# (fsyncs) of the whole cluster. The server publishes them about once a second.
_COUNTERS = (
    "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()), "
    "(SELECT wal_sync FROM pg_stat_wal)"
)
STATS_DELAY = 1.2  # seconds: the server's statistics are flushed at most once a second


async def server_counters(url: str) -> tuple[int, int]:
    """(transactions committed in ``url``'s database, WAL flushes of the cluster) so far."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(_COUNTERS)
    finally:
        await conn.close()
    assert row is not None
    return int(row[0]), int(row[1])


async def per_run_counters(url: str, before: tuple[int, int], runs: int) -> dict[str, float]:
    """The server's commits and WAL flushes per run since ``before`` (after waiting for the
    statistics to be published; the two reads' own transactions are left out)."""
    await asyncio.sleep(STATS_DELAY)
    commits, flushes = await server_counters(url)
    return {
        "db_commits_per_run": max(commits - before[0] - 2, 0) / runs,
        "db_wal_flushes_per_run": (flushes - before[1]) / runs,
    }
