"""Defining tasks: the decorator, options, defaults, checks and from_workflows."""

from __future__ import annotations

from typing import Any

import pytest

from render_sdk import Retry, Workflows
from render_sdk.workflows import (
    PLANS,
    InvalidTaskOptions,
    InvalidTaskSignature,
    TaskAlreadyRegistered,
    TaskDefinitionError,
    UnknownTask,
)


def test_bare_and_configured_decorators_register_tasks() -> None:
    app = Workflows()

    @app.task
    def one(x: int) -> int:
        """Doc of one."""
        return x

    @app.task(name="two", retry=Retry(1, 10), timeout_seconds=45, plan="starter")
    async def second(x: int) -> int:
        return x

    assert list(app.tasks) == ["one", "two"]
    assert repr(app) == "<Workflows tasks=['one', 'two']>"
    assert repr(one) == "<Task 'one'>"
    assert one.name == "one" and one.__doc__ == "Doc of one." and one.__name__ == "one"
    assert app.get_task("two") is second
    assert second.to_wire()["options"] == {
        "retry": {"max_retries": 1, "wait_duration_ms": 10, "factor": 1.5},
        "timeout_seconds": 45,
        "plan": "starter",
    }
    assert one.to_wire()["options"] == {}


def test_app_defaults_apply_unless_the_task_sets_the_option() -> None:
    app = Workflows(default_retry=Retry(2, 100, 2), default_timeout=600, default_plan="pro")

    @app.task
    def inherits() -> None: ...

    @app.task(retry=Retry(0, 0), timeout_seconds=60, plan="starter")
    def overrides() -> None: ...

    assert inherits.options.retry == Retry(2, 100, 2)
    assert (inherits.options.timeout_seconds, inherits.options.plan) == (600, "pro")
    assert overrides.options.retry == Retry(0, 0)
    assert (overrides.options.timeout_seconds, overrides.options.plan) == (60, "starter")


def test_parameters_describe_names_types_and_json_defaults() -> None:
    app = Workflows()

    class Opaque:
        pass

    @app.task
    def f(a, b: list[int], c: str = "x", d: Any = None, e: object = Opaque(), *, k: int = 3):  # type: ignore[no-untyped-def]
        return a

    assert f.parameters == [
        {"name": "a", "has_default": False},
        {"name": "b", "has_default": False, "type": "list[int]"},
        {"name": "c", "has_default": True, "type": "str", "default_value": '"x"'},
        {"name": "d", "has_default": True, "type": "Any", "default_value": "null"},
        {"name": "e", "has_default": True, "type": "object"},
        {"name": "k", "has_default": True, "type": "int", "default_value": "3"},
    ]


def test_duplicate_names_are_refused_naming_the_task() -> None:
    app = Workflows()

    @app.task
    def dup() -> None: ...

    with pytest.raises(TaskAlreadyRegistered, match="task 'dup' is already registered"):

        @app.task(name="dup")
        def other() -> None: ...

    assert isinstance(TaskAlreadyRegistered(), ValueError)


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        (Retry(-1, 0), "max_retries must be an integer >= 0, got -1"),
        (Retry(1, -5), "wait_duration_ms must be an integer >= 0, got -5"),
        (Retry(1, 0, 0.5), "backoff_scaling must be a finite number >= 1, got 0.5"),
        (Retry(1.5, 0), "max_retries must be an integer"),  # type: ignore[arg-type]
        (Retry(True, 0), "max_retries must be an integer"),
        (Retry(1, 0, float("nan")), "backoff_scaling"),
        ("3 times", "retry must be a render_sdk.Retry, got str"),
    ],
)
def test_invalid_retry_is_refused_naming_the_task(retry: Any, message: str) -> None:
    app = Workflows()
    with pytest.raises(InvalidTaskOptions, match="task 'flaky'") as info:

        @app.task(retry=retry)
        def flaky() -> None: ...

    assert message in str(info.value)
    assert "flaky" not in app.tasks


@pytest.mark.parametrize("timeout", [0, -1, 86401, 2.5, "60", True])
def test_timeout_outside_range_is_refused(timeout: Any) -> None:
    app = Workflows()
    with pytest.raises(InvalidTaskOptions) as info:

        @app.task(timeout_seconds=timeout)
        def slow() -> None: ...

    text = str(info.value)
    assert "task 'slow'" in text and "between 1 and 86400" in text and "30..86400" in text


@pytest.mark.parametrize("timeout", [1, 29, 30, 86400])
def test_timeouts_in_range_are_accepted(timeout: int) -> None:
    app = Workflows()
    task = app.task(timeout_seconds=timeout)(lambda: None)
    assert task.options.timeout_seconds == timeout


def test_unknown_plan_is_refused_and_known_ones_accepted() -> None:
    app = Workflows()
    with pytest.raises(InvalidTaskOptions, match="task 'big': unknown plan 'huge'"):

        @app.task(plan="huge")
        def big() -> None: ...

    for plan in PLANS:
        app.task(name=f"on_{plan}", plan=plan)(lambda: None)
    assert len(app.tasks) == len(PLANS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"default_retry": Retry(-2, 0)}, "Workflows(default_retry=...): invalid retry"),
        ({"default_timeout": 0}, "Workflows(default_timeout=...)"),
        ({"default_plan": "tiny"}, "Workflows(default_plan=...): unknown plan 'tiny'"),
    ],
)
def test_invalid_app_defaults_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTaskOptions) as info:
        Workflows(**kwargs)
    assert message in str(info.value)


def test_signatures_json_cannot_fill_are_refused() -> None:
    app = Workflows()
    with pytest.raises(InvalidTaskSignature, match=r"task 'va': parameter '\*args'"):

        @app.task
        def va(*args: int) -> None: ...

    with pytest.raises(InvalidTaskSignature, match=r"task 'kw': parameter '\*\*kwargs'"):

        @app.task
        def kw(**kwargs: int) -> None: ...

    with pytest.raises(InvalidTaskSignature, match="task 'po': parameter 'x' is positional-only"):

        @app.task
        def po(x: int, /) -> None: ...

    with pytest.raises(InvalidTaskSignature, match="task 'gen' is a generator function"):

        @app.task
        def gen():  # type: ignore[no-untyped-def]
            yield 1

    assert list(app.tasks) == []


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "a b"])
def test_bad_task_names_are_refused(name: str) -> None:
    with pytest.raises(TaskDefinitionError):
        Workflows().task(name=name)(lambda: None)


def test_from_workflows_merges_apps_keeping_their_defaults() -> None:
    billing = Workflows(default_timeout=100)
    reports = Workflows(default_plan="pro")

    @billing.task
    def charge() -> None: ...

    @reports.task
    def render() -> None: ...

    app = Workflows.from_workflows(billing, reports, default_timeout=900, default_plan="starter")

    @app.task
    def local() -> None: ...

    assert list(app.tasks) == ["charge", "render", "local"]
    assert app.get_task("charge") is charge
    assert (charge.options.timeout_seconds, charge.options.plan) == (100, None)
    assert (render.options.timeout_seconds, render.options.plan) == (None, "pro")
    assert (local.options.timeout_seconds, local.options.plan) == (900, "starter")
    assert "local" not in billing.tasks  # registries belong to their apps


def test_from_workflows_refuses_a_name_in_two_apps() -> None:
    first, second = Workflows(), Workflows()
    first.task(name="same")(lambda: 1)
    second.task(name="same")(lambda: 2)

    with pytest.raises(ValueError, match="task 'same' is defined in more than one"):
        Workflows.from_workflows(first, second)
    with pytest.raises(TypeError, match="argument 2 must be a Workflows"):
        Workflows.from_workflows(first, "second")  # type: ignore[arg-type]


def test_unknown_task_names_the_task_and_the_known_ones() -> None:
    app = Workflows()
    app.task(name="known")(lambda: None)
    with pytest.raises(UnknownTask, match=r"no task named 'ghost' in this app \(tasks: known\)"):
        app.get_task("ghost")
    assert isinstance(UnknownTask(), LookupError)


def test_exception_docstrings_are_default_messages() -> None:
    assert str(UnknownTask()) == "No task of this name is registered in this app."
    assert str(TaskAlreadyRegistered()) == (
        "A task with this name is already registered in this app."
    )
