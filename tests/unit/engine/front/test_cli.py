"""``render-workflows dev``: argument errors, the non-loopback refusal, a real start and stop.
The start and stop tests are process tests: the command runs as a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from render_sdk.engine.cli import API_KEY_ENV, LEASE_ENV, UsageError, main, parse_args
from render_sdk.engine.interface import DEFAULT_LEASE_SECONDS

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.timeout(60)


def test_defaults() -> None:
    options = parse_args(["main:app"], environ={})
    assert (options.host, options.port) == ("127.0.0.1", 8120)
    assert options.db == os.path.join(".render", "workflows.db")
    assert options.app_target == "main:app"
    assert options.start_command is None
    assert options.api_key is None
    assert options.durable and not options.quiet and not options.access_log


def test_start_command_after_double_dash() -> None:
    options = parse_args(["--port", "9000", "--", "python", "-m", "worker", "--x"], environ={})
    assert options.start_command == ["python", "-m", "worker", "--x"]
    assert options.app_target is None
    assert options.port == 9000


def test_all_flags() -> None:
    options = parse_args(
        [
            "--host=0.0.0.0",
            "--db",
            ":memory:",
            "--max-concurrency",
            "3",
            "--api-key",
            "k",
            "--log-level",
            "debug",
            "--access-log",
            "--no-fsync",
            "--quiet",
            "pkg.mod:app",
        ],
        environ={},
    )
    assert options.host == "0.0.0.0"
    assert options.db == ":memory:"
    assert options.max_concurrency == 3
    assert options.api_key == "k"
    assert options.log_level == "debug"
    assert options.access_log and options.quiet and not options.durable


def test_api_key_from_the_environment() -> None:
    assert parse_args(["main:app"], environ={API_KEY_ENV: "env-key"}).api_key == "env-key"
    options = parse_args(["--api-key", "flag", "main:app"], environ={API_KEY_ENV: "env-key"})
    assert options.api_key == "flag"
    # Render's own key variable is not read: it belongs to the hosted platform.
    assert parse_args(["main:app"], environ={"RENDER_API_KEY": "rnd"}).api_key is None


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "missing the worker"),
        (["main"], "module:attribute"),
        (["main:app", "--", "python", "w.py"], "not both"),
        (["--"], "nothing after '--'"),
        (["--port", "http", "main:app"], "port"),
        (["--port", "70000", "main:app"], "65535"),
        (["--max-concurrency", "0", "main:app"], "at least 1"),
        (["--max-concurrency", "many", "main:app"], "whole number"),
        (["--log-level", "loud", "main:app"], "loud"),
        (["--bogus", "main:app"], "--bogus"),
        (["--api-key", "", "main:app"], "must not be empty"),
        (["--host", "0.0.0.0", "main:app"], "refusing to listen on 0.0.0.0 without an API key"),
        (["--host", "192.168.1.5", "main:app"], "refusing"),
        (["--host", "example.com", "main:app"], "refusing"),
        (["--lease-seconds", "0.5", "main:app"], "the lease must be 1 to 3600 seconds, got 0.5"),
        (["--lease-seconds", "soon", "main:app"], "expected a number of seconds, got 'soon'"),
    ],
)
def test_bad_arguments(argv: list[str], words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("(", r"\(")):
        parse_args(argv, environ={})


def test_the_lease_comes_from_the_flag_then_the_environment_then_the_default() -> None:
    env = {LEASE_ENV: "40"}
    assert parse_args(["--lease-seconds", "5", "main:app"], environ=env).lease_seconds == 5.0
    assert parse_args(["main:app"], environ=env).lease_seconds == 40.0
    assert parse_args(["main:app"], environ={}).lease_seconds == DEFAULT_LEASE_SECONDS == 15.0
    with pytest.raises(UsageError, match=f"{LEASE_ENV}: the lease must be 1 to 3600 seconds"):
        parse_args(["main:app"], environ={LEASE_ENV: "9000"})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_key(host: str) -> None:
    assert parse_args(["--host", host, "main:app"], environ={}).host == host


def test_main_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "0.0.0.0", "main:app"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("render-workflows dev: error: refusing to listen on 0.0.0.0")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--max-concurrency" in capsys.readouterr().out


def start_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start the CLI (over the fake core) on a free port; returns it and its first line."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_cli_with_fake_core.py"), "--port", "0", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    return proc, first


def read_until(proc: subprocess.Popen[str], prefix: str, seen: list[str] | None = None) -> str:
    """The first line of the CLI's output starting with ``prefix`` (lines before it: ``seen``)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line
        if seen is not None:
            seen.append(line)
    raise AssertionError(f"no line starting with {prefix!r}; stderr: {proc.stderr!r}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serves_and_stops_cleanly_on_signal(tmp_path: Path, sig: int) -> None:
    proc, first = start_cli(tmp_path, "main:app")
    try:
        db = tmp_path / ".render" / "workflows.db"
        assert first.startswith(f"fake core: db={db} durable=True")
        seen: list[str] = []
        line = read_until(proc, "render-workflows dev: listening on http://127.0.0.1:", seen)
        assert line.rstrip().endswith(f"(db: {db})")
        base_url = line.split()[4]
        assert (tmp_path / ".render").is_dir()
        # The run-state and worker-output loggers are printed, one line each.
        assert len(seen) == 2
        assert seen[0].rstrip().endswith(" trn-1 square: pending -> running")
        assert seen[1].rstrip().endswith(" square trn-1: hello from the worker")
        answer = httpx.post(f"{base_url}/v1/task-runs", json={"task": "square", "input": [2]})
        assert answer.status_code == 202
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "render-workflows dev: stopping" in out
    assert "fake core: stopped" in out
    assert "Traceback" not in err


def test_memory_db_api_key_and_quiet(tmp_path: Path) -> None:
    proc, first = start_cli(tmp_path, "--db", ":memory:", "--quiet", "--no-fsync", "main:app")
    try:
        assert first.startswith("fake core: db=:memory: durable=False")
        line = read_until(proc, "render-workflows dev: listening on")
        assert line.rstrip().endswith("(db: :memory:)")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "pending -> running" not in out
    assert not (tmp_path / ".render").exists()

    env_key = {API_KEY_ENV: "sekret"}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_cli_with_fake_core.py"), "--port", "0", "main:app"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env_key, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = read_until(proc, "render-workflows dev: listening on")
        assert "API key required" in line
        assert "sekret" not in line
        base_url = line.split()[4]
        assert httpx.get(f"{base_url}/v1/tasks").status_code == 401
        ok = httpx.get(f"{base_url}/v1/tasks", headers={"Authorization": "Bearer sekret"})
        assert ok.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "sekret" not in out + err


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, str(HERE / "_cli_with_fake_core.py"), "--port", str(port), "m:app"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"render-workflows dev: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_a_core_that_fails_to_start_is_one_line_and_status_1(tmp_path: Path) -> None:
    proc, _ = start_cli(tmp_path, "main:app", env={"FAKE_CORE_START": "fail"})
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err == (
        "render-workflows dev: error: the engine failed to start: "
        "the worker exited with status 1 while registering its tasks\n"
    )
    assert "listening" not in out


def test_ctrl_c_while_starting_stops_cleanly(tmp_path: Path) -> None:
    proc, first = start_cli(tmp_path, "main:app", env={"FAKE_CORE_START": "hang"})
    try:
        assert first.startswith("fake core: db=") or "starting forever" in first
        if "starting forever" not in first:
            read_until(proc, "fake core: starting forever")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "fake core: start canceled" in out
    assert "render-workflows dev: stopped" in out
    assert "Traceback" not in err
