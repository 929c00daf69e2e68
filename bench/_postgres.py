"""The benchmarks' PostgreSQL: one throwaway cluster (tests/pgcluster.py) with fsync on, as a
production server would run, shared by the engine on PostgreSQL and by DBOS (a database each)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bench._procs import NotMeasured, children, cpu_seconds, reaped_children_cpu_seconds


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
    "(SELECT wal_sync FROM pg_stat_wal), current_setting('data_directory')"
)
STATS_DELAY = 1.2  # seconds: the server's statistics are flushed at most once a second


@dataclass(frozen=True)
class ServerCounters:
    commits: int  # transactions committed in the database
    flushes: int  # WAL flushes of the cluster
    cpu_seconds: float  # CPU of the server's processes (the postmaster's, its children's)


async def server_counters(url: str) -> ServerCounters:
    """The server's counters so far (the server runs on this machine)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(_COUNTERS)
    finally:
        await conn.close()
    assert row is not None
    return ServerCounters(int(row[0]), int(row[1]), _server_cpu_seconds(Path(row[2])))


def _server_cpu_seconds(data_directory: Path) -> float:
    """CPU of the postmaster, its live children, and the children it has reaped."""
    pid = int((data_directory / "postmaster.pid").read_text().split()[0])
    live = sum(cpu_seconds(child) or 0.0 for child in children(pid))
    return (cpu_seconds(pid) or 0.0) + live + (reaped_children_cpu_seconds(pid) or 0.0)


async def per_run_counters(url: str, before: ServerCounters, runs: int) -> dict[str, float]:
    """The server's commits, WAL flushes and CPU per run since ``before`` (after waiting for
    the statistics to be published; the two reads' own transactions are left out; the CPU
    includes what the server did meanwhile for nobody else, idle work)."""
    await asyncio.sleep(STATS_DELAY)
    after = await server_counters(url)
    return {
        "db_commits_per_run": max(after.commits - before.commits - 2, 0) / runs,
        "db_wal_flushes_per_run": (after.flushes - before.flushes) / runs,
        "db_server_cpu_ms_per_run": (after.cpu_seconds - before.cpu_seconds) * 1000 / runs,
    }
