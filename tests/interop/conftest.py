"""Interop with Render's published render_sdk 0.6.0, installed in a separate virtualenv.

These tests run under ``nox -s interop``, which builds that virtualenv and sets RENDER06_PYTHON to
its interpreter. The default test run does not collect this folder (see tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def python06() -> Path:
    value = os.environ.get("RENDER06_PYTHON")
    if not value:
        raise RuntimeError("RENDER06_PYTHON is not set: run these tests with `nox -s interop`")
    return Path(value)
