"""Test-suite wide settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.pg import postgres_cluster, postgres_url  # noqa: F401 - fixtures for every test

# The interop tests need Render's published SDKs in virtualenvs of their own; `nox -s interop`
# makes them and sets RENDER06_PYTHON and RENDER15_PYTHON. Without them, the folder is not
# collected (it is not skipped: it is run by its own CI session).
collect_ignore = [] if os.environ.get("RENDER06_PYTHON") else ["interop"]


@pytest.fixture
def cpu_hogs() -> Iterator[None]:
    """Two busy-loop processes for the test's duration: the loaded 2-core machine that a
    developer's laptop or a shared CI runner often is."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
