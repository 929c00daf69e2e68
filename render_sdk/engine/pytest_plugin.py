"""pytest fixtures that run your workflow's tasks on a local engine.

Enable the plugin in your ``conftest.py`` and name the app in your pytest configuration::

    # conftest.py
    pytest_plugins = ["render_sdk.engine.pytest_plugin"]

    # pyproject.toml
    [tool.pytest.ini_options]
    render_workflows_app = "main:app"       # module:app, imported from render_workflows_cwd
    render_workflows_cwd = "."              # optional, relative to the rootdir

Then::

    def test_square(local_engine):
        from render_sdk import Render
        assert Render().workflows.run_task("square", [3]).results == [9]

Async tests (``async def test_...``) need pytest-asyncio, with ``asyncio_mode = "auto"`` in the
same configuration (or ``@pytest.mark.asyncio`` on each); docs/local-engine.md shows both.

Fixtures:

- ``local_engine``: one engine (in-memory database) shared by the whole session, started on first
  use; for each test it points ``Render()``/``RenderAsync()`` at it by setting
  ``RENDER_LOCAL_DEV_URL`` (and removes ``RENDER_API_KEY``, so a real key is never sent to it).
- ``local_engine_factory``: ``local_engine_factory("main:app", **options)`` starts an engine of
  the test's own with any :class:`~render_sdk.engine.embedded.LocalEngine` options; it is stopped
  after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from render_sdk.engine.embedded import LocalEngine

APP_OPTION = "render_workflows_app"
CWD_OPTION = "render_workflows_cwd"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(APP_OPTION, "module:app served by the local_engine fixture (e.g. main:app)")
    parser.addini(CWD_OPTION, "folder the local_engine fixture's worker runs in (default: rootdir)")


def _make_engine(app_target: str | None, **options: Any) -> LocalEngine:
    from render_sdk.engine.embedded import LocalEngine

    return LocalEngine(app_target, **options)


@pytest.fixture(scope="session")
def local_engine_session(request: pytest.FixtureRequest) -> Iterator[LocalEngine]:
    """The session's engine, serving ``render_workflows_app``; see :func:`local_engine`."""
    config = request.config
    target = str(config.getini(APP_OPTION) or "").strip()
    if not target:
        raise pytest.UsageError(
            f"the local_engine fixture needs the app: set {APP_OPTION} = module:app in your "
            "pytest configuration, or use local_engine_factory('module:app')"
        )
    cwd = Path(config.rootpath) / str(config.getini(CWD_OPTION) or ".")
    engine = _make_engine(target, cwd=cwd).start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def local_engine(local_engine_session: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> LocalEngine:
    """The session's local engine, with this test's clients pointed at it.

    def test_square(local_engine):
        assert Render().workflows.run_task("square", [3]).results == [9]
    """
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    for name, value in local_engine_session.env().items():
        monkeypatch.setenv(name, value)
    return local_engine_session


@pytest.fixture
def local_engine_factory() -> Iterator[Callable[..., LocalEngine]]:
    """Start engines of the test's own: ``local_engine_factory("main:app", db=path, ...)``.

    def test_restart(local_engine_factory, tmp_path):
        engine = local_engine_factory("main:app", db=tmp_path / "runs.db")
    """
    engines: list[LocalEngine] = []

    def make(app_target: str | None = None, **options: Any) -> LocalEngine:
        engine = _make_engine(app_target, **options).start()
        engines.append(engine)
        return engine

    try:
        yield make
    finally:
        errors: list[BaseException] = []
        for engine in reversed(engines):
            try:
                engine.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
