"""The context-first task style: :class:`TaskContext`, :class:`TaskRunMetadata`, and the two
contexts this SDK hands out.

A task whose first parameter is annotated ``TaskContext`` receives one (docs/tasks.md):

- in a worker attempt, a context whose ``run`` starts subtasks through the callback API and
  whose ``metadata`` carries the run ids of ``GET /input``;
- in a user's own tests, :class:`LocalTaskContext`, which runs subtasks in this process and
  carries whatever metadata the test chooses.

``TaskContext`` is a Protocol, so a test may also bring a context of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, runtime_checkable

from render_sdk.workflows._errors import NotATask, SubtaskError

if TYPE_CHECKING:
    from render_sdk.workflows._context import AttemptFrame
    from render_sdk.workflows._task import TaskDefinition

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class TaskRunMetadata:
    """The ids of the run a task executes for; ``None`` where the platform sent none.

    A root run has no parent: its ``parent_task_run_id`` is ``None`` and its
    ``root_task_run_id`` is its own ``task_run_id``.

        meta = TaskRunMetadata(task_run_id="trn-1", root_task_run_id="trn-1")
        assert meta.parent_task_run_id is None
    """

    task_run_id: str | None = None
    root_task_run_id: str | None = None
    parent_task_run_id: str | None = None

    @classmethod
    def from_input(cls, body: Any) -> TaskRunMetadata:
        """The metadata in a ``GET /input`` answer. Missing, empty or non-string ids are None
        (a platform that predates these fields sends none of them)."""

        def pick(key: str) -> str | None:
            value = body.get(key) if isinstance(body, dict) else None
            return value if isinstance(value, str) and value else None

        return cls(pick("task_run_id"), pick("root_task_run_id"), pick("parent_task_run_id"))


@runtime_checkable
class TaskContext(Protocol):
    """What a context-style task receives first: run subtasks, read the run's ids.

    @app.task
    async def sum_squares(ctx: TaskContext, n: int) -> int:
        return sum(await asyncio.gather(*(ctx.run(square, i) for i in range(n))))
    """

    @property
    def metadata(self) -> TaskRunMetadata:
        """The ids of the current run."""
        ...

    async def run(self, task: TaskDefinition[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``task`` as a subtask and return its result.

        Arguments are positional or named, not both (a run's input is a JSON array or a JSON
        object). A subtask that fails after its last attempt raises :class:`SubtaskError`.
        """
        ...


def check_definition(task: object, where: str) -> TaskDefinition[Any, Any]:
    """``task`` when it is a context-style task; NotATask naming what it is otherwise."""
    from render_sdk.workflows._task import Task, TaskDefinition

    if isinstance(task, TaskDefinition):
        return task
    if isinstance(task, Task):
        raise NotATask(
            f"{where} takes a context-style task (first parameter `ctx: TaskContext`); "
            f"{task.name!r} takes no context: call it directly, as `await {task.name}(...)` "
            "from an async task"
        )
    raise NotATask(
        f"{where} takes a task registered with @app.task, got {type(task).__name__} {task!r}"
    )


class AttemptContext:
    """The context of a task executing in a worker attempt: subtasks go through the callback
    API of the attempt's ``frame``; ``metadata`` comes from ``GET /input``."""

    __slots__ = ("_frame", "_metadata")

    def __init__(self, frame: AttemptFrame, metadata: TaskRunMetadata) -> None:
        self._frame = frame
        self._metadata = metadata

    def __repr__(self) -> str:
        return f"<TaskContext {self._metadata.task_run_id or 'run'}>"

    @property
    def metadata(self) -> TaskRunMetadata:
        return self._metadata

    async def run(self, task: TaskDefinition[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        definition = check_definition(task, "ctx.run()")
        definition.check_arguments(args, kwargs)
        from render_sdk.workflows._codec import encode_input

        encoded = encode_input(definition.name, args, kwargs)
        import asyncio

        from render_sdk.workflows._subtasks import call_subtask

        future = self._frame.pool.submit(call_subtask, self._frame, definition.name, encoded)
        result: R = await asyncio.wrap_future(future)
        return result


_local_ids = itertools.count(1)


class LocalTaskContext:
    """A ready :class:`TaskContext` for unit tests: no engine, no worker, no network.

    ``ctx.run(task, ...)`` runs the task in this process, with its input and result passed
    through JSON as on the wire, and hands it a child context whose metadata names a fresh local
    run id, this context's run as its parent, and the same root. A subtask that raises becomes
    :class:`SubtaskError`, as in a worker. Plain (0.6.0-style) tasks the subtask calls run in
    this process too.

        ctx = LocalTaskContext(TaskRunMetadata(task_run_id="trn-test"))
        assert await ctx.run(square, 3) == 9
        assert await sum_squares(ctx, 3) == 5  # a context-style task called with a context
    """

    __slots__ = ("_metadata",)

    def __init__(self, metadata: TaskRunMetadata | None = None) -> None:
        if metadata is not None and not isinstance(metadata, TaskRunMetadata):
            raise TypeError(
                f"LocalTaskContext(metadata=...) takes a TaskRunMetadata, got {metadata!r}"
            )
        self._metadata = metadata if metadata is not None else TaskRunMetadata()

    def __repr__(self) -> str:
        return f"LocalTaskContext({self._metadata!r})"

    @property
    def metadata(self) -> TaskRunMetadata:
        return self._metadata

    def child_metadata(self) -> TaskRunMetadata:
        """The metadata a subtask started from this context receives."""
        run_id = f"trn-local-{next(_local_ids)}"
        parent = self._metadata.task_run_id
        root = self._metadata.root_task_run_id or parent or run_id
        return TaskRunMetadata(task_run_id=run_id, root_task_run_id=root, parent_task_run_id=parent)

    async def run(self, task: TaskDefinition[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        definition = check_definition(task, "ctx.run()")
        definition.check_arguments(args, kwargs)
        from render_sdk.workflows._codec import (
            decode_input,
            decode_output,
            encode_input,
            encode_output,
        )
        from render_sdk.workflows._context import LocalFrame, current_frame
        from render_sdk.workflows._task import error_details

        call_args, call_kwargs = decode_input(encode_input(definition.name, args, kwargs))
        child = LocalTaskContext(self.child_metadata())
        token = current_frame.set(LocalFrame())
        try:
            result: Any = definition.fn(child, *call_args, **call_kwargs)
            if definition.is_async:
                result = await result
            output = encode_output(definition.name, result)
        except Exception as exc:
            raise SubtaskError(
                definition.name, child.metadata.task_run_id, error_details(exc)
            ) from exc
        finally:
            current_frame.reset(token)
        value: R = decode_output(output)
        return value
