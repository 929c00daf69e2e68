"""Fixtures: the REST API over a fake core, served by uvicorn on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from render_sdk.engine.embedded import LocalEngine

from .fake_core import FakeCore


@dataclass
class Served:
    core: FakeCore
    engine: LocalEngine
    http: httpx.AsyncClient


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    core = FakeCore()
    async with LocalEngine(core=core, app_options={"sse_ping_interval": 0.05}) as engine:
        async with httpx.AsyncClient(base_url=engine.base_url, timeout=10) as http:
            yield Served(core, engine, http)


@pytest.fixture
async def secured() -> AsyncIterator[Served]:
    core = FakeCore()
    async with LocalEngine(core=core, api_key="k-123") as engine:
        async with httpx.AsyncClient(base_url=engine.base_url, timeout=10) as http:
            yield Served(core, engine, http)
