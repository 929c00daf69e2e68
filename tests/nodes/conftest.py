"""Fixtures of the several-node tests: a fresh database of the tests' cluster, and nodes on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.nodes._node import Node
from tests.pg import PostgresCluster


@pytest.fixture
def cluster_db(postgres_cluster: PostgresCluster) -> Iterator[str]:
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)


@pytest.fixture
def nodes(cluster_db: str, tmp_path: Path) -> Iterator[Callable[..., Node]]:
    """Start nodes on one fresh database; every node is stopped at the end of the test."""
    records = tmp_path / "records"
    records.mkdir()
    started: list[Node] = []

    def make(name: str, concurrency: int = 2, app: str = "nodes_app:app") -> Node:
        node = Node(name, cluster_db, records, tmp_path, concurrency, app)
        started.append(node)
        return node.start()

    yield make
    for node in started:
        node.stop()
