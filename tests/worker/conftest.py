"""Fixtures of the worker tests: a FakePlatform on a real Unix socket, real worker processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker._platform import FakePlatform

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.close()


def run_worker(
    platform: FakePlatform,
    mode: str,
    target: str = "worker_app:app",
    timeout: float = 60,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m render_sdk.cli TARGET` as the platform would, and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", target],
        cwd=APPS,
        env=platform.env(mode, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
