"""A registered task: the user's function, its name, options and parameters, and how calls of
it behave in and out of a run."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

from render_sdk.workflows._codec import decode_input, decode_output, encode_input, encode_output
from render_sdk.workflows._context import AttemptFrame, LocalFrame, current_frame
from render_sdk.workflows._errors import (
    InvalidTaskSignature,
    SubtaskError,
    TaskArgumentsError,
    TaskDefinitionError,
)
from render_sdk.workflows._options import TaskOptions

if TYPE_CHECKING:
    from render_sdk.workflows._taskcontext import TaskContext

P = ParamSpec("P")
R = TypeVar("R")

_FORBIDDEN_IN_NAMES = set("/: \t\r\n")


def error_details(exc: BaseException) -> str:
    """The message a failed run reports for ``exc``: its class name, then its text.

    >>> error_details(ValueError("boom: x")), error_details(KeyError("k")), error_details(OSError())
    ('ValueError: boom: x', "KeyError: 'k'", 'OSError')
    """
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_name(name: object) -> str:
    """Return ``name`` when it can name a task; raise TaskDefinitionError otherwise."""
    if not isinstance(name, str) or not name:
        raise TaskDefinitionError(f"a task name must be a non-empty string, got {name!r}")
    bad = sorted(_FORBIDDEN_IN_NAMES & set(name))
    if bad:
        raise TaskDefinitionError(
            f"task name {name!r} contains {', '.join(repr(c) for c in bad)}; "
            "names may not contain '/', ':' or whitespace "
            "(they form the slug workflow/task:version)"
        )
    return name


def describe_parameters(params: Iterable[inspect.Parameter], name: str) -> list[dict[str, Any]]:
    """The callback API's ``parameters`` for a task's input ``params``; InvalidTaskSignature
    for unusable ones.

    ``*args``, ``**kwargs`` and positional-only parameters are refused: a run's input is a JSON
    array matched to the parameters in order, or a JSON object matched by name, and every
    parameter must be reachable both ways (keyword-only ones by name).
    """
    described = []
    for param in params:
        if param.kind is param.VAR_POSITIONAL or param.kind is param.VAR_KEYWORD:
            stars = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise InvalidTaskSignature(
                f"task {name!r}: parameter '{stars}{param.name}' is not supported; a task's "
                "input is a JSON array or object matched to named parameters, so declare each "
                "one by name"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise InvalidTaskSignature(
                f"task {name!r}: parameter {param.name!r} is positional-only; it could not be "
                "given by name in a JSON object input"
            )
        entry: dict[str, Any] = {
            "name": param.name,
            "has_default": param.default is not param.empty,
        }
        if param.annotation is not param.empty:
            annotation = param.annotation
            entry["type"] = (
                annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
            )
        if param.default is not param.empty:
            try:
                entry["default_value"] = json.dumps(param.default, allow_nan=False)
            except (TypeError, ValueError):
                pass  # Not JSON: registered as having a default, without its value.
        described.append(entry)
    return described


def read_signature(fn: Callable[..., Any], name: str) -> inspect.Signature:
    """``fn``'s signature; InvalidTaskSignature when it cannot be read."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise InvalidTaskSignature(f"task {name!r}: cannot read its signature: {exc}") from None


def _is_context_annotation(annotation: Any) -> bool:
    if isinstance(annotation, str):  # postponed annotations: "TaskContext", "rs.TaskContext"
        return annotation.strip().strip("'\"").rsplit(".", 1)[-1] == "TaskContext"
    from render_sdk.workflows._taskcontext import TaskContext

    return annotation is TaskContext or TaskContext in getattr(annotation, "__mro__", ())


def takes_context(signature: inspect.Signature, name: str) -> bool:
    """Whether a task with ``signature`` is context-style: its first parameter is annotated
    ``TaskContext`` (docs/tasks.md). An unannotated first parameter named ``ctx`` is refused
    with InvalidTaskSignature, as it could mean either style."""
    params = list(signature.parameters.values())
    if not params:
        return False
    first = params[0]
    if first.annotation is first.empty:
        if first.name == "ctx":
            raise InvalidTaskSignature(
                f"task {name!r}: its first parameter 'ctx' has no annotation, so it is unclear "
                "whether the task takes a context or an input named 'ctx'; write "
                "`ctx: TaskContext` (from render_sdk import TaskContext) for a context, or "
                "annotate it with the input's type"
            )
        return False
    if not _is_context_annotation(first.annotation):
        return False
    if first.kind not in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD):
        raise InvalidTaskSignature(
            f"task {name!r}: its context parameter {first.name!r} must come first and be positional"
        )
    return True


def _loop_running() -> bool:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Registered(Generic[P, R]):
    """What both task styles share: the function, its name, options and input parameters."""

    __name__: str
    __qualname__: str
    takes_context = False

    def __init__(self, fn: Callable[..., Any], name: str, options: TaskOptions) -> None:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise InvalidTaskSignature(
                f"task {name!r} is a generator function; a task must return one JSON value"
            )
        # A registered task is not itself a plain function, which update_wrapper's types expect.
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]
        self.fn = fn
        self.name = name
        self.options = options
        signature = read_signature(fn, name)
        inputs = list(signature.parameters.values())
        if self.takes_context:
            inputs = inputs[1:]
        self.parameters = describe_parameters(inputs, name)
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004
        )
        self._signature = signature.replace(parameters=inputs)

    def to_wire(self) -> dict[str, Any]:
        """The ``Task`` object of ``POST /register-tasks``."""
        return {"name": self.name, "options": self.options.to_wire(), "parameters": self.parameters}

    def check_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Raise TaskArgumentsError when the arguments do not fit the task's parameters."""
        if args and kwargs:
            raise TaskArgumentsError(
                f"task {self.name!r} was called with both positional and keyword arguments; "
                "a task's input is either a JSON array or a JSON object, so use one kind"
            )
        try:
            self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TaskArgumentsError(
                f"arguments do not match the parameters of task {self.name!r}: {exc}"
            ) from None


class TaskDefinition(_Registered[P, R]):
    """A context-style task: its function takes a :class:`TaskContext` first. Run it from
    another task with ``await ctx.run(task, ...)``; ``P`` and ``R`` are its inputs (without the
    context) and its result, so a type checker checks those calls.

    Calling it with a context, ``await task(ctx, ...)``, is ``await ctx.run(task, ...)``: in a
    unit test, give it a :class:`LocalTaskContext`.

        @app.task
        def square(ctx: TaskContext, x: int) -> int:
            return x * x

        assert await square(LocalTaskContext(), 3) == 9
    """

    takes_context = True

    def __repr__(self) -> str:
        return f"<TaskDefinition {self.name!r}>"

    def __call__(
        self, ctx: TaskContext, /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R]:
        from render_sdk.workflows._taskcontext import TaskContext

        if not isinstance(ctx, TaskContext):
            shown = [repr(ctx), *map(repr, args)] if ctx is not None else list(map(repr, args))
            raise TaskArgumentsError(
                f"task {self.name!r} takes a TaskContext first; from another task run it with "
                f"`await ctx.run({self.name}, ...)`, and in a test with "
                f"`await {self.name}(LocalTaskContext(), ...)` "
                f"(it was called as {self.name}({', '.join(shown)}))"
            )
        return ctx.run(self, *args, **kwargs)


class Task(_Registered[P, R]):
    """A function registered with ``@app.task`` that takes no context (0.6.0 style). Calling it:

    - from plain Python (a script, a unit test): runs the function itself, in this process;
      an async task returns a coroutine, as the function does;
    - from inside a running task (worker attempt, or a task called as above): starts a
      subtask. Code with a running event loop (an async task) gets an awaitable to ``await``;
      code without one (a sync task) blocks until the subtask ends and gets its value.
      A failed subtask raises :class:`SubtaskError`.

        @app.task
        def square(x: int) -> int:
            return x * x

        assert square(3) == 9
    """

    def __repr__(self) -> str:
        return f"<Task {self.name!r}>"

    def _refuse_context(self, args: tuple[Any, ...]) -> None:
        from render_sdk.workflows._taskcontext import TaskContext

        if isinstance(args[0], TaskContext):
            raise TaskArgumentsError(
                f"task {self.name!r} takes no context (its first parameter is not annotated "
                f"TaskContext): call it without one, as {self.name}(...), or give it a first "
                "parameter `ctx: TaskContext`"
            )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if args:
            self._refuse_context(args)
        self.check_arguments(args, kwargs)
        frame = current_frame.get()
        if frame is None:
            return self._direct(args, kwargs)
        encoded = encode_input(self.name, args, kwargs)
        if isinstance(frame, LocalFrame):
            if _loop_running():
                return cast(R, self._local_async(encoded))
            return cast(R, self._local_blocking(encoded))
        if _loop_running():
            return cast(R, self._remote_async(frame, encoded))
        from render_sdk.workflows._subtasks import call_subtask

        return cast(R, call_subtask(frame, self.name, encoded))

    # Plain Python: the function itself, with a frame so nested task calls act as subtasks.
    def _direct(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        if self.is_async:
            return cast(R, self._direct_async(args, kwargs))
        token = current_frame.set(LocalFrame())
        try:
            return cast(R, self.fn(*args, **kwargs))
        finally:
            current_frame.reset(token)

    async def _direct_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        token = current_frame.set(LocalFrame())
        try:
            return await cast(Coroutine[Any, Any, Any], self.fn(*args, **kwargs))
        finally:
            current_frame.reset(token)

    # In-process subtasks: input and result pass through JSON, failures become SubtaskError.
    async def _local_async(self, encoded: str) -> Any:
        args, kwargs = decode_input(encoded)
        try:
            result: Any = self.fn(*args, **kwargs)
            if self.is_async:
                result = await result
            output = encode_output(self.name, result)
        except Exception as exc:
            raise SubtaskError(self.name, None, error_details(exc)) from exc
        return decode_output(output)

    def _local_blocking(self, encoded: str) -> Any:
        args, kwargs = decode_input(encoded)
        try:
            result: Any = self.fn(*args, **kwargs)
            if self.is_async:
                import asyncio

                result = asyncio.run(result)
            output = encode_output(self.name, result)
        except Exception as exc:
            raise SubtaskError(self.name, None, error_details(exc)) from exc
        return decode_output(output)

    # In a worker attempt: through the callback API, blocking calls on the attempt's pool.
    async def _remote_async(self, frame: AttemptFrame, encoded: str) -> Any:
        import asyncio

        from render_sdk.workflows._subtasks import call_subtask

        return await asyncio.wrap_future(frame.pool.submit(call_subtask, frame, self.name, encoded))
