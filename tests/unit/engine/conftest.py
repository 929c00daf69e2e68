"""Fixtures for the engine core's tests: ``make_fake`` starts engines on fake workers (no process,
fake_workers.py) for tests of scheduling; ``make_engine`` starts them on real worker processes
over real Unix sockets, for the tests about processes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import EngineConfig
from render_sdk.engine.records import RunRecord

from .fake_workers import FakeWorkers, TaskFn, fake_engine

WORKER = Path(__file__).resolve().parents[2] / "engine_workers" / "plain_worker.py"
REPO = Path(__file__).resolve().parents[3]

MakeEngine = Callable[..., Awaitable[EngineCore]]
MakeFake = Callable[..., Awaitable[tuple[EngineCore, FakeWorkers]]]


@pytest.fixture
async def make_engine(tmp_path: Path) -> AsyncIterator[MakeEngine]:
    """Start engines running the stdlib test worker; ``serve=True`` uses the reused pool."""
    engines: list[EngineCore] = []

    async def make(
        serve: bool = False, serve_command: list[str] | None = None, **fields: Any
    ) -> EngineCore:
        fields.setdefault("db_path", ":memory:")
        fields.setdefault("durable", False)
        fields.setdefault("cwd", tmp_path)
        fields.setdefault("max_concurrency", 4)
        command = [sys.executable, str(WORKER)]
        if "app_target" in fields and serve_command is None:
            core = EngineCore(EngineConfig(**fields))
        elif serve or serve_command is not None:
            fields.setdefault("app_target", "tests.engine_workers.plain_worker:app")
            core = EngineCore(EngineConfig(**fields), serve_command=serve_command or command)
        else:
            fields.setdefault("start_command", command)
            core = EngineCore(EngineConfig(**fields))
        await core.start()
        engines.append(core)
        return core

    yield make
    for core in engines:
        await core.stop()


@pytest.fixture
async def make_fake() -> AsyncIterator[MakeFake]:
    """Start engines on fake workers (arguments as :func:`fake_workers.fake_engine`); each is
    stopped at the end of the test."""
    engines: list[EngineCore] = []

    async def make(
        functions: dict[str, TaskFn], *args: Any, **options: Any
    ) -> tuple[EngineCore, FakeWorkers]:
        core, workers = await fake_engine(functions, *args, **options)
        engines.append(core)
        return core, workers

    yield make
    for core in engines:
        await core.stop()


async def run_to_end(core: EngineCore, task: str, value: Any) -> RunRecord:
    """Start ``task`` and return its terminal record."""
    found = await core.find_task(task)
    assert found is not None, task
    run = await core.start_run(found, value)
    return await wait_end(core, run.id)


async def wait_end(core: EngineCore, run_id: str) -> RunRecord:
    async for rec in core.terminal_events([run_id]):
        return rec
    raise AssertionError("no terminal event")
