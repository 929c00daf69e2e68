"""Cassettes: the client's HTTP exchanges with the local engine, recorded and replayed with vcrpy.

`nox -s record` sets VCR_RECORD_MODE=all: a real engine serves tests/e2e/apps/e2e_app.py and every
exchange is written to tests/cassettes/data/. The default test run (VCR_RECORD_MODE=none) replays
them with no engine at all; a request that is not in its cassette fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr

from tests.e2e._engine import EngineProcess

DATA = Path(__file__).resolve().parent / "data"
RECORD_MODE = os.environ.get("VCR_RECORD_MODE", "none")
RECORDING = RECORD_MODE != "none"
REPLAY_URL = "http://127.0.0.1:8120"
API_KEY = "cassette-key"
MAX_RECORDED_BODY = 2048


def _shrink_request(request: Any) -> Any:
    """Keep cassettes small: a request body over 2 KiB (the 413 case) is cut in the recording."""
    body = request.body
    if body is not None and len(body) > MAX_RECORDED_BODY:
        request.body = body[:MAX_RECORDED_BODY]
    return request


recorder = vcr.VCR(
    cassette_library_dir=str(DATA),
    record_mode=RECORD_MODE,
    match_on=["method", "path", "query"],
    filter_headers=["authorization", "user-agent"],
    before_record_request=_shrink_request,
    decode_compressed_response=True,
)


def _engine(tmp: Path, extra: list[str]) -> Iterator[str]:
    if not RECORDING:
        yield REPLAY_URL
        return
    proc = EngineProcess(tmp / "workflows.db", ["e2e_app:app"], tmp / "engine.log", extra)
    proc.start()
    try:
        yield proc.base_url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _engine(tmp_path_factory.mktemp("rec"), [])


@pytest.fixture(scope="session")
def keyed_engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _engine(tmp_path_factory.mktemp("rec-key"), ["--api-key", API_KEY])


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The cassette named after the test."""
    name = f"{request.node.name}.yaml"
    if not RECORDING and not (DATA / name).exists():
        raise FileNotFoundError(f"no cassette {name}: record it with `nox -s record`")
    with recorder.use_cassette(name) as recorded:
        yield recorded
    if not RECORDING:
        assert recorded.all_played, f"{name}: the client skipped recorded exchanges"


@pytest.fixture
def local(engine_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", engine_url)
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    return engine_url
