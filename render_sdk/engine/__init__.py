"""The local engine: run Render Workflows tasks on this machine, durably, with Render's REST API.

Three ways to use it:

- ``render-workflows dev main:app`` in a terminal (see :mod:`render_sdk.engine.cli`);
- :class:`LocalEngine` in a script or test (``with LocalEngine("main:app") as engine: ...``);
- the pytest plugin ``render_sdk.engine.pytest_plugin`` (fixtures ``local_engine`` and
  ``local_engine_factory``).

Names are imported lazily, so importing a submodule (records, the core) does not load the web
server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from render_sdk.engine.api import create_app
    from render_sdk.engine.embedded import LocalEngine
    from render_sdk.engine.interface import EngineConfig, EngineCoreAPI

__all__ = ["EngineConfig", "EngineCoreAPI", "LocalEngine", "create_app"]

_LAZY = {
    "LocalEngine": "render_sdk.engine.embedded",
    "create_app": "render_sdk.engine.api",
    "EngineConfig": "render_sdk.engine.interface",
    "EngineCoreAPI": "render_sdk.engine.interface",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'render_sdk.engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
