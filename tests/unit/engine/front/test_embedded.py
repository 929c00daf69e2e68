"""LocalEngine (sync and async) and the pytest plugin, over the fake core. Two are process tests:
the plugin in a pytest process of its own, and the engine package imported by a fresh Python."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import httpx
import pytest

from render_sdk.engine.embedded import LocalEngine, is_loopback

from .fake_core import FakeCore

pytest_plugins = ["pytester"]
HERE = Path(__file__).resolve().parent


def test_sync_context_manager_serves_on_a_free_loopback_port() -> None:
    core = FakeCore()
    with LocalEngine(core=core) as engine:
        assert core.started
        assert engine.base_url == f"http://127.0.0.1:{engine.port}"
        assert engine.port > 0
        assert engine.env() == {"RENDER_LOCAL_DEV_URL": engine.base_url}
        answer = httpx.post(f"{engine.base_url}/v1/task-runs", json={"task": "square"})
        assert answer.status_code == 202
        # The core lives in the engine's loop; call() reaches it from this thread.
        run = engine.call(core.get_run, answer.json()["id"])
        assert run.task_name == "square"
    assert core.stopped
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{engine.port}/v1/tasks")
    with pytest.raises(RuntimeError, match="not running"):
        _ = engine.base_url


def test_sync_engine_can_start_again_after_stop() -> None:
    engine = LocalEngine(core=FakeCore())
    engine.start()
    first = engine.base_url
    engine.stop()
    engine.stop()  # stopping twice is harmless
    with engine:
        assert httpx.get(f"{engine.base_url}/v1/tasks").status_code == 200
    assert first.startswith("http://127.0.0.1:")


def test_start_twice_is_an_error() -> None:
    with LocalEngine(core=FakeCore()) as engine, pytest.raises(RuntimeError, match="already"):
        engine.start()


async def test_async_context_manager_runs_in_the_callers_loop() -> None:
    core = FakeCore()
    async with LocalEngine(core=core, api_key="key") as engine:
        assert engine.env() == {"RENDER_LOCAL_DEV_URL": engine.base_url, "RENDER_API_KEY": "key"}
        async with httpx.AsyncClient(base_url=engine.base_url) as http:
            assert (await http.get("/v1/tasks")).status_code == 401
            answer = await http.get("/v1/tasks", headers={"Authorization": "Bearer key"})
            assert answer.status_code == 200
        # Same loop: the core can be driven directly.
        run = await core.start_run(core.tasks[0], [1])
        assert (await engine.core.get_run(run.id)) is run
    assert core.stopped


class FailingCore(FakeCore):
    async def start(self) -> None:
        raise RuntimeError("the worker could not register its tasks")


def test_a_core_that_fails_to_start_is_reported_and_nothing_is_left_listening() -> None:
    engine = LocalEngine(core=FailingCore(), port=0)
    with pytest.raises(RuntimeError, match="could not register"):
        engine.start()
    with pytest.raises(RuntimeError, match="not running"):
        _ = engine.base_url


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            LocalEngine(core=FakeCore(), port=port).start()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "exactly one of app_target"),
        (("main:app",), {"start_command": ["python", "w.py"]}, "exactly one"),
        ((), {"start_command": []}, "exactly one|must not be empty"),
        (("main:app",), {"host": "0.0.0.0"}, "non-loopback host '0.0.0.0' without an api_key"),
        (("main:app",), {"max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_bad_arguments(args: tuple[str, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LocalEngine(*args, **kwargs)  # type: ignore[arg-type]


def test_is_loopback() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and is_loopback("::1")
    assert is_loopback("[::1]") and is_loopback("127.9.9.9")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    assert not is_loopback("example.com") and not is_loopback("::")


def test_pytest_plugin_factory_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        pytest_plugins = ["render_sdk.engine.pytest_plugin"]
        """
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import httpx
            from fake_core import FakeCore

            def test_two_engines(local_engine_factory):
                a = local_engine_factory(core=FakeCore())
                b = local_engine_factory(core=FakeCore(), api_key="k")
                assert a.base_url != b.base_url
                assert httpx.get(a.base_url + "/v1/tasks").status_code == 200
                assert httpx.get(b.base_url + "/v1/tasks").status_code == 401
                test_two_engines.urls = [a.base_url, b.base_url]

            def test_engines_were_stopped():
                for url in test_two_engines.urls:
                    try:
                        httpx.get(url + "/v1/tasks")
                    except httpx.ConnectError:
                        continue
                    raise AssertionError(url + " still answers")

            def test_local_engine_needs_the_app_setting(local_engine):
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*the local_engine fixture needs the app: set render_workflows*"])


def test_importing_the_engine_package_loads_no_web_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, render_sdk.engine, render_sdk.engine.records, render_sdk.engine.interface\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'sse_starlette') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from render_sdk.engine import LocalEngine\n"
        "assert 'uvicorn' in sys.modules\n"
        "import render_sdk.engine.core, render_sdk.engine.cli, render_sdk.engine.store\n"
        "assert 'asyncpg' not in sys.modules  # only a PostgreSQL database loads its driver\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
