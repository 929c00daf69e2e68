"""The benchmarks' PostgreSQL: one throwaway cluster (tests/pgcluster.py) with fsync on, as a
production server would run, shared by the engine on PostgreSQL and by DBOS (a database each)."""

from __future__ import annotations

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
