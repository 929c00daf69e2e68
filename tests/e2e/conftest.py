"""Fixtures of the end-to-end tests: a real engine process serving tests/e2e/apps/e2e_app.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._engine import EngineProcess, engine_db

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """One engine for the session (fast path; a SQLite file, or PostgreSQL: see engine_db);
    tests use distinct runs."""
    tmp = tmp_path_factory.mktemp("engine")
    proc = EngineProcess(engine_db(tmp), ["e2e_app:app"], tmp / "engine.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[EngineProcess]:
    """An engine of the test's own, for tests that kill or restart it."""
    proc = EngineProcess(engine_db(tmp_path), ["e2e_app:app"], tmp_path / "engine.log")
    yield proc
    if proc.proc is not None:
        proc.stop()


@pytest.fixture
def local_env(engine: EngineProcess, monkeypatch: pytest.MonkeyPatch) -> EngineProcess:
    """Point Render()/RenderAsync() at the session engine."""
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", engine.base_url)
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    return engine
