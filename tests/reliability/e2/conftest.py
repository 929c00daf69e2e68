"""Fixtures of the E2 reliability tests: real engines serving tests/e2e/apps/e2e_app.py.

Tests marked ``soak`` are the long versions; they run only when selected with ``-m soak``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._engine import EngineProcess

APPS = Path(__file__).resolve().parent / "apps"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long reliability runs, selected with -m soak")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with -m soak (nox -s soak)")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def api_key() -> str:
    """A fresh key per module, so a leak in one test's output cannot be a coincidence."""
    return "rk-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def secured_engine(
    tmp_path_factory: pytest.TempPathFactory, api_key: str
) -> Iterator[EngineProcess]:
    """An engine that requires ``Authorization: Bearer <api_key>``, logging at debug level."""
    tmp = tmp_path_factory.mktemp("secured")
    proc = EngineProcess(
        tmp / "workflows.db",
        ["e2e_app:app"],
        tmp / "engine.log",
        extra_args=["--api-key", api_key, "--log-level", "debug", "--access-log"],
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[EngineProcess]:
    """An engine of the test's own (not started), for tests that stop or restart it."""
    proc = EngineProcess(tmp_path / "workflows.db", ["e2e_app:app"], tmp_path / "engine.log")
    yield proc
    if proc.proc is not None:
        proc.stop()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where apps/misbehaving_worker.py writes the answers it got."""
    return tmp_path_factory.mktemp("reports")


def misbehaving_engine(
    tmp: Path, reports: Path, extra_args: list[str] | None = None, env: dict[str, str] | None = None
) -> EngineProcess:
    """A started engine whose worker is ``-- python apps/misbehaving_worker.py``."""
    command = ["--", sys.executable, str(APPS / "misbehaving_worker.py")]
    proc = EngineProcess(
        tmp / "workflows.db", command, tmp / "engine.log", extra_args=extra_args, cwd=APPS
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("E2_REPORT_DIR", str(reports))
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        proc.start()
    return proc
