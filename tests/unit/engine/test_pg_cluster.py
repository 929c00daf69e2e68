"""The tests' throwaway PostgreSQL cluster (tests/pg.py): real, on TCP with a password, one
fresh database per test."""

from __future__ import annotations

import os
import subprocess

from tests.pg import PASSWORD, USER, PostgresCluster


def _psql_tcp(cluster: PostgresCluster, dbname: str, statement: str, password: str) -> str:
    done = subprocess.run(
        [str(cluster.bin_dir / "psql"), "-X", "-A", "-t", "-h", cluster.host, "-p",
         str(cluster.port), "-U", USER, "-d", dbname, "-c", statement],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PGPASSWORD": password},
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else "error: " + done.stderr.strip()


def test_each_test_gets_a_fresh_database_over_tcp(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    dbname = postgres_url.rsplit("/", 1)[1]
    assert postgres_url == postgres_cluster.url(dbname)
    tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert _psql_tcp(postgres_cluster, dbname, tables, PASSWORD) == "0"
    assert _psql_tcp(postgres_cluster, dbname, "SHOW fsync", PASSWORD) == "off"
    other = postgres_cluster.create_database()
    assert other != dbname
    postgres_cluster.drop_database(other)


def test_a_wrong_password_is_refused(postgres_cluster: PostgresCluster, postgres_url: str) -> None:
    dbname = postgres_url.rsplit("/", 1)[1]
    answer = _psql_tcp(postgres_cluster, dbname, "SELECT 1", "wrong")
    assert answer.startswith("error:") and "password authentication failed" in answer
