"""An engine on PostgreSQL, from ``render-workflows dev --db postgresql://...`` and from
LocalEngine: real engines on the tests' PostgreSQL cluster
(tests/pg.py), and each error a user can cause: one line, exit status 2, no password shown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from render_sdk.engine.cli import DB_ENV, parse_args
from tests.pg import PASSWORD, PostgresCluster, _free_port

APPS = Path(__file__).resolve().parents[3] / "e2e" / "apps"
PROG = "render-workflows dev: error: "
pytestmark = pytest.mark.timeout(120)


def _dev(*args: str) -> list[str]:
    return [sys.executable, "-m", "render_sdk.cli", "dev", *args]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=APPS, capture_output=True, text=True, timeout=90,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, cwd=APPS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )  # fmt: skip


def _wait_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line + (proc.stderr.read() if proc.stderr else "")
    return line


def test_the_db_comes_from_the_flag_then_the_environment_then_the_default() -> None:
    url = "postgresql://u:p@h/db"
    assert parse_args(["--db", url, "m:app"], environ={DB_ENV: "x.db"}).db == url
    assert parse_args(["m:app"], environ={DB_ENV: url}).db == url
    assert parse_args(["m:app"], environ={}).db == os.path.join(".render", "workflows.db")


def test_an_engine_on_postgresql_runs_tasks_and_keeps_them(postgres_url: str) -> None:
    port = str(_free_port())
    proc = _start(_dev("--port", port, "e2e_app:app"), env={DB_ENV: postgres_url})
    try:
        line = _wait_listening(proc)
        assert postgres_url.replace(PASSWORD, "***") in line and PASSWORD not in line
        base = f"http://127.0.0.1:{port}/v1"
        run_id = httpx.post(f"{base}/task-runs", json={"task": "square", "input": [7]}).json()["id"]
        deadline = time.monotonic() + 60
        while (body := httpx.get(f"{base}/task-runs/{run_id}").json())["status"] != "completed":
            assert time.monotonic() < deadline and body["status"] in ("pending", "running"), body
            time.sleep(0.05)
        assert body["results"] == [49]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert PASSWORD not in out + err
    again = _start(_dev("--port", port, "--db", postgres_url, "e2e_app:app"))
    try:
        _wait_listening(again)
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/task-runs").json()
        assert [item["taskRun"]["id"] for item in listed] == [run_id]
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=60)


def test_a_wrong_password_is_one_line_and_status_2(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    url = postgres_cluster.url(postgres_url.rsplit("/", 1)[1], password="not-the-1")
    done = _run(_dev("--port", "0", "--db", url, "m:app"))
    assert done.returncode == 2
    assert done.stderr == (
        f"{PROG}cannot open the PostgreSQL database {url.replace('not-the-1', '***')}: "
        "authentication failed for user render\n"
    )
    assert "not-the-1" not in done.stdout


def test_a_missing_database_is_one_line_and_status_2(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.url("nowhere")
    done = _run(_dev("--port", "0", "m:app"), env={DB_ENV: url})
    assert done.returncode == 2
    assert done.stderr == (
        f"{PROG}cannot open the PostgreSQL database {url.replace(PASSWORD, '***')}: "
        "the database 'nowhere' does not exist (create it first)\n"
    )


def test_an_unreachable_server_is_one_line_and_status_2() -> None:
    port = _free_port()
    url = f"postgresql://render:{PASSWORD}@127.0.0.1:{port}/x"
    done = _run(_dev("--port", "0", "--db", url, "m:app"))
    assert done.returncode == 2
    assert done.stderr == (
        f"{PROG}cannot open the PostgreSQL database postgresql://render:***@127.0.0.1:{port}/x: "
        f"cannot reach the server at 127.0.0.1:{port}: Connection refused\n"
    )


def test_without_the_postgres_extra_the_cli_says_what_to_install() -> None:
    # The driver made unimportable in the engine's process (hard to uninstall in a test).
    code = (
        "import sys; sys.modules['asyncpg'] = None\n"
        "from render_sdk.engine.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = _run([sys.executable, "-c", code, "--db", "postgresql://u:secret@h/db", "m:app"])
    assert done.returncode == 2
    assert done.stderr == (
        f"{PROG}a PostgreSQL database needs the postgres extra (asyncpg is not installed): "
        "install render_sdk[postgres]\n"
    )


# --- the embedded engine ----------------------------------------------------------------------
def test_the_embedded_engine_takes_a_postgresql_url(postgres_url: str) -> None:
    from render_sdk.engine.embedded import LocalEngine

    with LocalEngine("e2e_app:app", cwd=APPS, db=postgres_url) as engine, engine.client() as render:
        done = render.workflows.run_task("square", [5])
        assert done.results == [25]
    with LocalEngine("e2e_app:app", cwd=APPS, db=postgres_url) as engine, engine.client() as render:
        assert [r.id for r in render.workflows.list_task_runs()] == [done.id]


def test_the_embedded_engine_reports_a_bad_database_clearly(
    postgres_cluster: PostgresCluster,
) -> None:
    from render_sdk.engine.embedded import LocalEngine
    from render_sdk.engine.store import StoreOpenError

    url = postgres_cluster.url("missing_db")
    with pytest.raises(StoreOpenError, match="the database 'missing_db' does not exist"):
        LocalEngine("e2e_app:app", cwd=APPS, db=url).start()


def test_an_engine_rides_out_a_database_restart(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    port = str(_free_port())
    proc = _start(_dev("--port", port, "--db", postgres_url, "e2e_app:app"))
    base = f"http://127.0.0.1:{port}/v1"

    def start(task: str, value: object) -> str:
        answer = httpx.post(f"{base}/task-runs", json={"task": task, "input": [value]}, timeout=60)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def finished(run_id: str) -> dict[str, object]:
        deadline = time.monotonic() + 90
        while (body := httpx.get(f"{base}/task-runs/{run_id}", timeout=60).json())["status"] in (
            "pending",
            "running",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        return dict(body)

    try:
        _wait_listening(proc)
        during = start("sleep_for", 1.0)  # running while the server restarts
        postgres_cluster.restart()
        after = start("square", 6)
        assert finished(during)["status"] == "completed"
        assert finished(after)["results"] == [36]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "store connection lost" in err and "store connection regained" in err
    assert PASSWORD not in out + err
