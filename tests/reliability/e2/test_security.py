"""Security of the local engine: binding, keys, logs, sockets, decoding, paths.

Each check runs the real ``render-workflows dev`` (or reads the real source tree) and asserts what
a user relies on: a non-loopback address needs a key; the key is never printed; callback sockets
are private and removed; inputs are only ever JSON-decoded; the database path and task names
cannot make the engine write outside the places it is given.
"""

from __future__ import annotations

import ast
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e._engine import APPS as E2E_APPS
from tests.e2e._engine import EngineProcess, free_port
from tests.reliability.e2.conftest import misbehaving_engine
from tests.reliability.e2.test_callback_bad_input import finish, report, run

ROOT = Path(__file__).resolve().parents[3]
KEY_ENV = "RENDER_WORKFLOWS_DEV_API_KEY"


def dev(
    *args: str, env: dict[str, str] | None = None, cwd: Path = E2E_APPS
) -> subprocess.CompletedProcess[str]:
    """``render-workflows dev ARGS`` that is expected to exit by itself (refusals)."""
    environ = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, "RENDER_API_KEY")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", "dev", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


class KeyedEngine(EngineProcess):
    """An engine whose key comes from the environment (not the command line)."""

    def __init__(self, *args: Any, key: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def start(self, timeout: float = 60.0) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(KEY_ENV, self.key)
            super().start(timeout)


# --- binding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.invalid"])
def test_non_loopback_needs_a_key(host: str) -> None:
    answer = dev("--host", host, "--port", "0", "e2e_app:app")
    assert answer.returncode == 2, answer
    assert f"refusing to listen on {host} without an API key" in answer.stderr
    assert KEY_ENV in answer.stderr
    # RENDER_API_KEY (the hosted platform's key) does not count as the engine's key.
    hosted = dev("--host", host, "--port", "0", "e2e_app:app", env={"RENDER_API_KEY": "rnd_x"})
    assert hosted.returncode == 2 and "refusing" in hosted.stderr


def test_empty_key_is_refused() -> None:
    answer = dev("--api-key", "", "e2e_app:app")
    assert answer.returncode == 2 and "--api-key must not be empty" in answer.stderr


def test_any_address_with_key_from_environment_requires_it(tmp_path: Path) -> None:
    key = "rk-" + secrets.token_hex(16)
    proc = KeyedEngine(
        tmp_path / "w.db",
        ["e2e_app:app"],
        tmp_path / "engine.log",
        extra_args=["--host", "0.0.0.0"],
        key=key,
    )
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url + "/v1") as api:
            assert api.get("/tasks").status_code == 401
            assert api.get("/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        cmdline = Path(f"/proc/{proc.proc.pid}/cmdline").read_bytes()  # type: ignore[union-attr]
        assert key.encode() not in cmdline  # the environment keeps it out of `ps`
    finally:
        proc.stop()
    output = proc.output()
    assert "listening on http://0.0.0.0:" in output and "API key required" in output
    assert key not in output


# --- no keys in logs ------------------------------------------------------------------------------


def test_no_key_in_engine_output(tmp_path: Path) -> None:
    """Debug logging and the access log on; good and wrong keys sent; failures provoked."""
    key = "rk-" + secrets.token_hex(16)
    wrong = "rk-wrong-" + secrets.token_hex(8)
    proc = EngineProcess(
        tmp_path / "w.db",
        ["e2e_app:app"],
        tmp_path / "engine.log",
        extra_args=["--api-key", key, "--log-level", "debug", "--access-log"],
    )
    proc.start()
    try:
        good = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=proc.base_url + "/v1", timeout=60) as api:
            for headers in (good, {"Authorization": f"Bearer {wrong}"}, {"Authorization": key}):
                api.get("/tasks", headers=headers)
                api.post("/task-runs", headers=headers, json={"task": "nope"})
            failed = api.post("/task-runs", headers=good, json={"task": "fail", "input": ["x"]})
            run_id = failed.json()["id"]
            with api.stream(
                "GET", "/task-runs/events", headers=good, params={"taskRunIds": run_id}
            ) as events:
                for _ in events.iter_lines():
                    pass
            api.get("/logs", headers=good, params={"taskRunId": run_id})
    finally:
        proc.stop()
    output = proc.output()
    assert "GET /v1/tasks" in output  # the access log was on
    assert key not in output and wrong not in output
    assert key[3:] not in output and wrong[9:] not in output


def test_client_never_shows_its_token() -> None:
    from render_sdk import Render
    from render_sdk.client.errors import RenderError

    token = "rnd_" + secrets.token_hex(16)
    with Render(token=token, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0) as render:
        assert token not in repr(render)
        with pytest.raises(RenderError) as caught:
            render.workflows.list_tasks()
    assert token not in str(caught.value) and token not in repr(caught.value)


# --- callback sockets -----------------------------------------------------------------------------


def _socket_dirs_of(engine_pid: int) -> set[Path]:
    """Socket folders named in the environment of the engine's worker processes."""
    found: set[Path] = set()
    for child in Path(f"/proc/{engine_pid}/task").glob("*/children"):
        for pid in child.read_text().split():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            for item in environ:
                if item.startswith(b"RENDER_SDK_SOCKET_PATH="):
                    found.add(Path(item.split(b"=", 1)[1].decode()).parent)
    return found


def test_socket_folder_private_and_removed_fast_path(tmp_path: Path) -> None:
    proc = EngineProcess(tmp_path / "w.db", ["e2e_app:app"], tmp_path / "engine.log")
    proc.start()
    try:
        assert proc.proc is not None
        folders = _socket_dirs_of(proc.proc.pid)
        assert len(folders) == 1, folders
        [folder] = folders
        assert folder.stat().st_mode & 0o777 == 0o700
        assert folder.stat().st_uid == os.getuid()
        sockets = list(folder.iterdir())
        assert sockets and all(s.stat().st_mode & 0o777 == 0o600 for s in sockets)
    finally:
        assert proc.stop() == 0
    assert not folder.exists()


@pytest.fixture
def keyed_callback_engine(tmp_path: Path, reports: Path) -> Iterator[tuple[EngineProcess, str]]:
    key = "rk-" + secrets.token_hex(16)
    proc = misbehaving_engine(tmp_path, reports, extra_args=["--api-key", key], env={KEY_ENV: key})
    yield proc, key
    proc.stop()


def test_socket_private_removed_after_use_and_key_not_passed_to_workers(
    keyed_callback_engine: tuple[EngineProcess, str], reports: Path
) -> None:
    proc, key = keyed_callback_engine
    with httpx.Client(
        base_url=proc.base_url + "/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        details = run(api, "socket_facts")
    facts = report(reports, "socket_facts")["facts"]["body"]
    assert details["status"] == "completed"
    assert facts["dir_mode"] == "0o700" and facts["socket_mode"] == "0o600"
    assert facts["dir_owner_is_me"]
    assert not facts["engine_key_visible"], "the engine's API key reached the worker's environment"
    socket = Path(facts["socket"])
    deadline = time.monotonic() + 30
    while socket.exists():  # the worker exits after its callback; its socket goes with it
        assert time.monotonic() < deadline, f"{socket} still exists"
        time.sleep(0.05)
    proc.stop()
    assert not socket.parent.exists()


# --- inputs are only JSON-decoded --------------------------------------------------------------

FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_MODULES |= {"jsonpickle", "yaml", "ruamel"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def test_no_unpickling_or_evaluation_in_render_sdk() -> None:
    problems: list[str] = []
    files = sorted((ROOT / "render_sdk").rglob("*.py"))
    assert len(files) > 30
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                names = []
            problems += [f"{where} imports {n}" for n in names if n in FORBIDDEN_MODULES]
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                    problems.append(f"{where} calls {func.id}")
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    if func.value.id == "builtins" and func.attr in FORBIDDEN_CALLS:
                        problems.append(f"{where} calls builtins.{func.attr}")
    assert problems == []


def test_engine_modules_do_not_load_pickle_or_marshal_users() -> None:
    """Importing the whole engine and client pulls in none of our decoders but json."""
    code = (
        "import sys\n"
        "import render_sdk.engine.api, render_sdk.engine.core, render_sdk.engine.callbacks\n"
        "import render_sdk.engine.cli, render_sdk.client, render_sdk.workflows\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(FORBIDDEN_MODULES - {'marshal', 'pickle', '_pickle'})!r}))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "[]"


# --- paths ----------------------------------------------------------------------------------------


# The database, SQLite's write-ahead log and shared memory, and the engine's single-writer lock.
SQLITE_FILES = {"workflows.db", "workflows.db-wal", "workflows.db-shm", "workflows.db.lock"}


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_task_names_that_look_like_paths_stay_names(tmp_path: Path, reports: Path) -> None:
    """A worker may register ``../../escape``; nothing is written by that name anywhere."""
    watched = tmp_path / "home"
    watched.mkdir()
    before = _tree(tmp_path.parent)
    proc = misbehaving_engine(watched, reports)
    try:
        with httpx.Client(base_url=proc.base_url + "/v1", timeout=60) as api:
            tasks = {
                t["task"]["name"]: t["task"]["id"]
                for t in api.get("/tasks", params={"limit": 100}).json()
            }
            for name in ("../../escape", "/etc/passwd", "..\\windows", "a/../../b"):
                assert name in tasks
                # By slug, only the last segment names the task: these names are unreachable...
                if "/" in name:
                    assert (
                        api.post("/task-runs", json={"task": name, "input": [1]}).status_code == 404
                    )
                # ...but the id reaches the task, and the run works like any other.
                started = api.post("/task-runs", json={"task": tasks[name], "input": [name]})
                assert started.status_code == 202, started.text
                details = finish(api, started.json()["id"])
                assert details["status"] == "completed" and details["results"] == [name]
            assert api.get("/tasks/..%2F..%2Fescape").status_code == 404
    finally:
        proc.stop()
    created = _tree(tmp_path.parent) - before
    outside = [p for p in created if watched not in p.parents and p != watched]
    outside = [p for p in outside if reports not in p.parents]
    assert outside == [], outside
    names = {p.name for p in created}
    assert not names & {"escape", "passwd", "b", "..\\windows"}


def test_db_in_missing_folder_is_created_and_nothing_else_is_written(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "c" / "workflows.db"
    proc = EngineProcess(db, ["e2e_app:app"], tmp_path / "engine.log")
    before = _tree(E2E_APPS)
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url + "/v1") as api:
            assert api.post("/task-runs", json={"task": "square", "input": [2]}).status_code == 202
    finally:
        assert proc.stop() == 0
    assert f"(db: {db})" in proc.output()
    assert {p.name for p in db.parent.iterdir()} <= SQLITE_FILES
    written = {p for p in _tree(tmp_path) if p.is_file()} - {tmp_path / "engine.log"}
    assert written <= {db.with_name(name) for name in SQLITE_FILES}
    created = {p for p in _tree(E2E_APPS) - before if "__pycache__" not in p.parts}
    assert created == set()  # no .render/ folder in the working directory: --db was honoured


@pytest.mark.parametrize(
    "kind", ["folder is a file", "db is a folder", "unwritable", "dot-dot into a file"]
)
def test_bad_db_paths_fail_with_one_clear_line(tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    db = {
        "folder is a file": blocker / "workflows.db",
        "db is a folder": tmp_path,
        "unwritable": Path("/proc/render-workflows/workflows.db"),
        "dot-dot into a file": tmp_path / "x" / ".." / "file.txt" / "w.db",
    }[kind]
    answer = dev("--port", str(free_port()), "--db", str(db), "e2e_app:app")
    assert answer.returncode == 1, answer
    lines = [line for line in answer.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, answer.stderr
    assert "Traceback" not in answer.stderr
    assert lines[0].startswith("render-workflows dev: ")
    assert "database" in lines[0] or str(db.parent.resolve()) in lines[0], lines[0]
