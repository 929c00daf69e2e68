"""The :class:`Workflows` app: a registry of tasks with default options."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

from render_sdk.workflows._errors import TaskAlreadyRegistered, TaskDefinitionError, UnknownTask
from render_sdk.workflows._options import (
    Retry,
    TaskOptions,
    check_plan,
    check_retry,
    check_timeout,
)
from render_sdk.workflows._task import (
    Task,
    TaskDefinition,
    check_name,
    read_signature,
    takes_context,
)

if TYPE_CHECKING:
    from render_sdk.workflows._taskcontext import TaskContext

P = ParamSpec("P")
R = TypeVar("R")

AnyTask = Task[Any, Any] | TaskDefinition[Any, Any]


class TaskDecorator(Protocol):
    """``@app.task(...)`` with options: registers the function it decorates, in either style.

    The overloads mirror :meth:`Workflows.task`: a function whose first parameter is a
    TaskContext becomes a :class:`TaskDefinition` (an async one's result is what it awaits to),
    any other a :class:`Task`.
    """

    # A coroutine function also fits the last overload (R being its coroutine); the first match
    # wins, so the overlap is intended.
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, fn: Callable[Concatenate[TaskContext, P], Coroutine[Any, Any, R]], /
    ) -> TaskDefinition[P, R]: ...

    @overload
    def __call__(self, fn: Callable[Concatenate[TaskContext, P], R], /) -> TaskDefinition[P, R]: ...

    @overload
    def __call__(self, fn: Callable[P, R], /) -> Task[P, R]: ...


class Workflows:
    """Defines and registers workflow tasks; ``app.start()`` runs the worker.

    Defaults apply to tasks registered on this app that do not set the option themselves.

        app = Workflows(default_retry=Retry(max_retries=2, wait_duration_ms=1000))

        @app.task
        def square(x: int) -> int:
            return x * x
    """

    def __init__(
        self,
        default_retry: Retry | None = None,
        default_timeout: int | None = None,
        default_plan: str | None = None,
    ) -> None:
        self.default_retry = check_retry(default_retry, "Workflows(default_retry=...)")
        self.default_timeout = check_timeout(default_timeout, "Workflows(default_timeout=...)")
        self.default_plan = check_plan(default_plan, "Workflows(default_plan=...)")
        self._tasks: dict[str, AnyTask] = {}

    def __repr__(self) -> str:
        return f"<Workflows tasks={list(self._tasks)!r}>"

    @classmethod
    def from_workflows(
        cls,
        *apps: Workflows,
        default_retry: Retry | None = None,
        default_timeout: int | None = None,
        default_plan: str | None = None,
    ) -> Workflows:
        """An app holding the tasks of ``apps`` (as registered there, with their own defaults).

        The defaults given here apply only to tasks registered directly on the new app. The
        tasks are collected now: tasks added to ``apps`` later are not included. A task name
        found in two apps raises TaskAlreadyRegistered (a ValueError).

            app = Workflows.from_workflows(billing.app, reports.app)
        """
        combined = cls(
            default_retry=default_retry, default_timeout=default_timeout, default_plan=default_plan
        )
        for index, app in enumerate(apps):
            if not isinstance(app, Workflows):
                raise TypeError(
                    f"Workflows.from_workflows() argument {index + 1} must be a Workflows, "
                    f"got {type(app).__name__}"
                )
            for task in app._tasks.values():
                if task.name in combined._tasks:
                    raise TaskAlreadyRegistered(
                        f"task {task.name!r} is defined in more than one of the apps given to "
                        "Workflows.from_workflows(); task names must be unique"
                    )
                combined._tasks[task.name] = task
        return combined

    @property
    def tasks(self) -> Mapping[str, AnyTask]:
        """The registered tasks by name (read-only), in registration order."""
        return MappingProxyType(self._tasks)

    def get_task(self, name: str) -> AnyTask:
        """The task registered as ``name``; UnknownTask (a LookupError) when there is none."""
        try:
            return self._tasks[name]
        except KeyError:
            known = ", ".join(sorted(self._tasks)) or "none"
            raise UnknownTask(f"no task named {name!r} in this app (tasks: {known})") from None

    # A context-first function becomes a TaskDefinition, typed by its inputs after the context
    # and by its result (what an async one awaits to); any other function becomes a Task.
    @overload
    def task(  # type: ignore[overload-overlap]
        self, fn: Callable[Concatenate[TaskContext, P], Coroutine[Any, Any, R]], /
    ) -> TaskDefinition[P, R]: ...

    @overload
    def task(self, fn: Callable[Concatenate[TaskContext, P], R], /) -> TaskDefinition[P, R]: ...

    @overload
    def task(self, fn: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        retry: Retry | None = None,
        timeout_seconds: int | None = None,
        plan: str | None = None,
    ) -> TaskDecorator: ...

    def task(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        retry: Retry | None = None,
        timeout_seconds: int | None = None,
        plan: str | None = None,
    ) -> Any:
        """Register a function as a task, bare (``@app.task``) or with options.

        ``name`` defaults to the function's name. ``retry``, ``timeout_seconds`` (whole seconds,
        1..86400 here; Render itself accepts 30..86400) and ``plan`` override the app's
        defaults. Everything is checked now, and errors name the task.

        A function whose first parameter is annotated ``TaskContext`` is a context-style task
        (a :class:`TaskDefinition`); any other is called as in the 0.6.0 style (a
        :class:`Task`). See docs/tasks.md.

            @app.task(name="fetch", retry=Retry(3, 500), timeout_seconds=60, plan="pro")
            async def fetch_page(url: str) -> str: ...
        """

        def register(func: Callable[..., Any]) -> AnyTask:
            if not callable(func):
                raise TaskDefinitionError(
                    f"@app.task must decorate a function, got {type(func).__name__}"
                )
            task_name = check_name(name if name is not None else getattr(func, "__name__", None))
            where = f"task {task_name!r}"
            if task_name in self._tasks:
                raise TaskAlreadyRegistered(
                    f"task {task_name!r} is already registered in this app; give one of them "
                    "another name with @app.task(name=...)"
                )
            options = TaskOptions(
                retry=check_retry(retry, where) or self.default_retry,
                timeout_seconds=check_timeout(timeout_seconds, where) or self.default_timeout,
                plan=check_plan(plan, where) or self.default_plan,
            )
            with_context = takes_context(read_signature(func, task_name), task_name)
            task: AnyTask = (TaskDefinition if with_context else Task)(func, task_name, options)
            self._tasks[task_name] = task
            return task

        if fn is not None:
            return register(fn)
        return register

    def start(self) -> None:
        """Run the worker: register the tasks or execute a run, as the platform asks.

        The platform sets ``RENDER_SDK_MODE`` (``register`` or ``run``) and
        ``RENDER_SDK_SOCKET_PATH``. A missing or wrong setting, or a platform that cannot be
        reached, ends the process with a one-line error on stderr (SystemExit).

            if __name__ == "__main__":
                app.start()
        """
        from render_sdk.workflows._worker import run_worker

        code = run_worker(self)
        if code:
            raise SystemExit(code)
