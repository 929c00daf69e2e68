"""The worker's start-up: environment variables and the `render-workflows module:app` command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.worker._platform import FakePlatform
from tests.worker.conftest import APPS, run_worker


def _worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", *args],
        cwd=APPS,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RENDER_SDK_")}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "RENDER_SDK_MODE is not set"),
        ({"RENDER_SDK_MODE": "walk", "RENDER_SDK_SOCKET_PATH": "/x"}, "'walk' is not a known mode"),
        ({"RENDER_SDK_MODE": "run"}, "RENDER_SDK_SOCKET_PATH is not set"),
        (
            {
                "RENDER_SDK_MODE": "run",
                "RENDER_SDK_SOCKET_PATH": "/x",
                "RENDER_SDK_SOCKET_RETRY_SECONDS": "soon",
            },
            "RENDER_SDK_SOCKET_RETRY_SECONDS='soon' must be a number",
        ),
    ],
)
def test_bad_environment_is_a_one_line_error(extra: dict[str, str], message: str) -> None:
    done = _worker({**_base_env(), **extra}, "worker_app:app")

    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("render-workflows: error: ")
    assert message in line


def test_missing_socket_file_is_retried_then_reported(platform: FakePlatform) -> None:
    env = {
        **_base_env(),
        "RENDER_SDK_MODE": "run",
        "RENDER_SDK_SOCKET_PATH": platform.socket_path + ".missing",
        "RENDER_SDK_SOCKET_RETRY_SECONDS": "0.2",
    }
    done = _worker(env, "worker_app:app")

    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "GET /input" in line and "FileNotFoundError" in line and "gave up" in line


def test_app_start_in_a_script_exits_with_a_one_line_error(tmp_path: object) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from worker_app import app; app.start()"],
        cwd=APPS,
        env=_base_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        done.stderr.strip(),
    ]
    assert "RENDER_SDK_MODE is not set" in done.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("worker_app", "is not of the form MODULE:APP"),
        ("worker_app:", "is not of the form MODULE:APP"),
        ("work-er:app", "is not of the form MODULE:APP"),
        ("no_such_module:app", "cannot find module 'no_such_module'"),
        ("worker_app:nothing", "module 'worker_app' has no attribute 'nothing'"),
        ("worker_app:square", "'worker_app:square' is a Task, not a Workflows app"),
    ],
)
def test_bad_targets_are_one_line_errors(platform: FakePlatform, target: str, message: str) -> None:
    done = run_worker(platform, "register", target=target)

    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert message in line
    assert platform.requests == []


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_mentions_the_dev_command(flag: str) -> None:
    done = _worker(_base_env(), flag)

    assert done.returncode == 0
    assert "render-workflows MODULE:APP" in done.stdout
    assert "render-workflows dev" in done.stdout


def test_dotted_module_and_attribute_targets(platform: FakePlatform) -> None:
    done = run_worker(platform, "register", target="worker_app:app")
    assert done.returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", "apps.worker_app:app"],
        cwd=APPS.parent,
        env=platform.env("register"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(platform.calls("/register-tasks")) == 2


def test_no_target_prints_usage_and_fails() -> None:
    done = _worker(_base_env())
    assert done.returncode == 2
    assert "usage: render-workflows MODULE:APP" in done.stderr
