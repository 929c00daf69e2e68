"""Start-up and registration. The process tests: the environment a worker process gets, a
worker that does not register, a command that cannot start. The others need no process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from render_sdk.engine._validation import parse_task
from render_sdk.engine.core import EngineCore, WorkerStartError, default_concurrency
from render_sdk.engine.interface import EngineConfig
from render_sdk.engine.records import InvalidRequest
from render_sdk.engine.scheduler import utcnow

from .conftest import MakeEngine, run_to_end


@pytest.mark.parametrize("serve", [False, True])
async def test_worker_environment(make_engine: MakeEngine, tmp_path: Path, serve: bool) -> None:
    core = await make_engine(serve=serve, env={"MY_VAR": "from-config"}, cwd=tmp_path)
    rec = await run_to_end(core, "environment", [])
    assert rec.results == [
        {
            "mode": "serve" if serve else "run",
            "my_var": "from-config",
            "cwd": str(tmp_path),
            "socket_dir_mode": "0o700",
            "own_group": True,
        }
    ]
    assert core.socket_dir is not None
    await core.stop()
    assert not core.socket_dir.exists()


async def test_a_worker_that_does_not_register_is_a_clear_error(tmp_path: Path) -> None:
    script = "import sys; print('cannot import main', file=sys.stderr); sys.exit(5)"
    core = EngineCore(
        EngineConfig(db_path=":memory:", start_command=[sys.executable, "-c", script], cwd=tmp_path)
    )
    with pytest.raises(WorkerStartError) as caught:
        await core.start()
    message = str(caught.value)
    assert "exit status 5" in message and "without registering" in message
    assert "cannot import main" in message


async def test_a_missing_command_is_a_clear_error(tmp_path: Path) -> None:
    core = EngineCore(
        EngineConfig(db_path=":memory:", start_command=[str(tmp_path / "nope")], cwd=tmp_path)
    )
    with pytest.raises(WorkerStartError, match="cannot start worker command"):
        await core.start()


def test_config_needs_exactly_one_worker_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EngineCore(EngineConfig(db_path=":memory:"))
    with pytest.raises(ValueError, match="exactly one"):
        EngineCore(EngineConfig(db_path=":memory:", app_target="a:b", start_command=["x"]))


def test_default_concurrency() -> None:
    assert default_concurrency(1) == 8
    assert default_concurrency(2) == 8
    assert default_concurrency(4) == 16
    assert default_concurrency(8) == 32
    assert default_concurrency(100) == 32


def test_registered_task_parsing() -> None:
    now = utcnow()
    task = parse_task(
        {
            "name": "t",
            "options": {
                "retry": {"max_retries": 2, "wait_duration_ms": 10, "factor": 3},
                "timeout_seconds": 0.2,
                "plan": "pro",
            },
            "parameters": [{"name": "a", "has_default": True, "default_value": "1"}],
        },
        now,
        min_timeout_seconds=1.0,
    )
    assert task.timeout_seconds == 1.0  # raised to the engine's minimum
    assert task.retry is not None and task.retry.factor == 3.0
    assert task.plan == "pro" and task.parameters[0].default_value == "1"
    with pytest.raises(InvalidRequest, match="max_retries"):
        parse_task({"name": "t", "options": {"retry": {"max_retries": -1}}}, now, 1.0)
    with pytest.raises(InvalidRequest, match="no 'name'"):
        parse_task({"options": {}}, now, 1.0)
