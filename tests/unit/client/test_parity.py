"""The blocking and async twins expose the same methods with the same parameters."""

from __future__ import annotations

import inspect
from typing import Any

from render_sdk import Render as LazyRender
from render_sdk import RenderAsync as LazyRenderAsync
from render_sdk.client import (
    AsyncTaskRunEventStream,
    AsyncWorkflows,
    Render,
    RenderAsync,
    TaskRunEventStream,
    Workflows,
)


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def shape(signature: inspect.Signature) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_workflows_services_match() -> None:
    sync, async_ = public_methods(Workflows), public_methods(AsyncWorkflows)
    assert sync.keys() == async_.keys()
    assert {
        "start_task",
        "run_task",
        "list_task_runs",
        "get_task_run",
        "cancel_task_run",
        "task_run_events",
        "list_tasks",
        "get_task",
        "get_logs",
    } <= sync.keys()
    for name in sync:
        assert shape(sync[name]) == shape(async_[name]), name


def test_async_methods_are_coroutines_except_the_stream() -> None:
    for name in public_methods(AsyncWorkflows):
        is_coroutine = inspect.iscoroutinefunction(getattr(AsyncWorkflows, name))
        assert is_coroutine == (name != "task_run_events"), name
    for name in public_methods(Workflows):
        assert not inspect.iscoroutinefunction(getattr(Workflows, name)), name


def test_clients_take_the_same_arguments() -> None:
    assert shape(inspect.signature(Render)) == shape(inspect.signature(RenderAsync))
    names = [p.name for p in inspect.signature(Render).parameters.values()]
    assert names[:2] == ["token", "base_url"]


def test_streams_are_twins() -> None:
    assert {"__iter__", "__next__", "close", "__enter__", "__exit__"} <= set(
        dir(TaskRunEventStream)
    )
    assert {"__aiter__", "__anext__", "aclose", "__aenter__", "__aexit__"} <= set(
        dir(AsyncTaskRunEventStream)
    )


def test_public_import_paths() -> None:
    assert LazyRender is Render and LazyRenderAsync is RenderAsync
    from render_sdk.client.errors import (  # noqa: F401
        ClientError,
        RateLimitError,
        RenderError,
        ServerError,
        TaskRunError,
        TimeoutError,
    )

    assert Render.__module__ == "render_sdk.client"
