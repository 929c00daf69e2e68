"""Render Workflows SDK for Python.

Define tasks with :class:`Workflows` and ``@app.task``; start, await, list, inspect, cancel and
stream their runs with :class:`Render` (blocking) or :class:`RenderAsync`.

    from render_sdk import TaskContext, Workflows
    app = Workflows()

    @app.task
    def square(ctx: TaskContext, x: int) -> int:
        return x * x

The client classes are imported lazily, so a worker that only defines tasks never loads an HTTP
client library.
"""

from __future__ import annotations  # noqa: I001 (_startup must be imported first)

from render_sdk import _startup  # noqa: F401 (it notes when the SDK's import began)
from typing import TYPE_CHECKING, Any

from render_sdk._version import __version__

if TYPE_CHECKING:
    from render_sdk.client import Render, RenderAsync
    from render_sdk.workflows import (
        LocalTaskContext,
        Retry,
        TaskContext,
        TaskRunMetadata,
        Workflows,
    )

__all__ = [
    "LocalTaskContext",
    "Render",
    "RenderAsync",
    "Retry",
    "TaskContext",
    "TaskRunMetadata",
    "Workflows",
    "__version__",
]

_LAZY = {
    "Workflows": "render_sdk.workflows",
    "Retry": "render_sdk.workflows",
    "TaskContext": "render_sdk.workflows",
    "TaskRunMetadata": "render_sdk.workflows",
    "LocalTaskContext": "render_sdk.workflows",
    "Render": "render_sdk.client",
    "RenderAsync": "render_sdk.client",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'render_sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
