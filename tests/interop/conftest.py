"""Interop with Render's published SDKs, each installed in a virtualenv of its own: render_sdk
0.6.0, and render 1.5.0 with its render-sdk 1.5.0 compatibility name.

These tests run under ``nox -s interop``, which builds those virtualenvs and sets RENDER06_PYTHON
and RENDER15_PYTHON to their interpreters. The default test run does not collect this folder
(see tests/conftest.py).
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


@pytest.fixture(scope="session")
def python15() -> Path:
    value = os.environ.get("RENDER15_PYTHON")
    if not value:
        raise RuntimeError("RENDER15_PYTHON is not set: run these tests with `nox -s interop`")
    return Path(value)
