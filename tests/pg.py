"""The tests' throwaway PostgreSQL cluster (the cluster itself: tests/pgcluster.py).

``postgres_cluster`` (session) starts one with fsync off; it is stopped at the end of the session,
whatever happened. ``postgres_url`` gives each test a database of its own
(``postgresql://render:<password>@127.0.0.1:<port>/<name>``), dropped after it. Without the server
binaries the tests that use them fail, saying what to install. :func:`shared_cluster` is the same
cluster for code outside fixtures (the end-to-end engines' databases, tests/e2e/_engine.py); it is
stopped at exit if no fixture stopped it.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator

import pytest

from tests.pgcluster import (
    INSTALL_HINT,
    PASSWORD,
    USER,
    PostgresCluster,
    _free_port,
    find_bin_dir,
)

__all__ = [
    "INSTALL_HINT",
    "PASSWORD",
    "USER",
    "PostgresCluster",
    "_free_port",
    "find_bin_dir",
    "postgres_cluster",
    "postgres_url",
    "shared_cluster",
    "stop_shared_cluster",
]


_shared: PostgresCluster | None = None


def shared_cluster() -> PostgresCluster:
    """The session's cluster, started on first use (fails, saying what to install, without
    the server binaries)."""
    global _shared
    if _shared is None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        cluster = PostgresCluster(bin_dir)
        atexit.register(cluster.stop)
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        _shared = cluster
    return _shared


def stop_shared_cluster() -> None:
    global _shared
    cluster, _shared = _shared, None
    if cluster is not None:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of the session's own (fails, saying what to install, without one)."""
    try:
        yield shared_cluster()
    finally:
        stop_shared_cluster()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """The URL of a new, empty database of this test's own (dropped after the test)."""
    name = postgres_cluster.create_database()
    try:
        yield postgres_cluster.url(name)
    finally:
        with contextlib.suppress(RuntimeError):
            postgres_cluster.drop_database(name)
