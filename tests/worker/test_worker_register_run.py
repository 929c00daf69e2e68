"""Register and run modes of a real worker process against the platform double."""

from __future__ import annotations

import pytest

from render_sdk._useragent import USER_AGENT
from tests.worker._platform import FakePlatform, b64, unb64
from tests.worker.conftest import run_worker


def test_register_posts_every_task_with_options_and_parameters(platform: FakePlatform) -> None:
    done = run_worker(platform, "register")

    assert done.returncode == 0, done.stderr
    [call] = platform.calls("/register-tasks")
    assert call.method == "POST"
    assert call.header("User-Agent") == USER_AGENT
    tasks = {task["name"]: task for task in call.body["tasks"]}
    assert list(tasks)[:3] == ["square", "greet", "no_args"]
    assert tasks["square"] == {
        "name": "square",
        "options": {"timeout_seconds": 300},
        "parameters": [{"name": "x", "has_default": False, "type": "int"}],
    }
    assert tasks["greet"] == {
        "name": "greet",
        "options": {
            "retry": {"max_retries": 3, "wait_duration_ms": 250, "factor": 2.0},
            "timeout_seconds": 300,
        },
        "parameters": [
            {"name": "name", "has_default": False, "type": "str"},
            {"name": "punctuation", "has_default": True, "type": "str", "default_value": '"!"'},
        ],
    }
    assert tasks["no_args"] == {
        "name": "no_args",
        "options": {"timeout_seconds": 30, "plan": "pro"},
        "parameters": [],
    }
    assert platform.calls("/input") == []


def _run(platform: FakePlatform, task: str, value: object) -> dict[str, object]:
    platform.add_run(task, value)
    done = run_worker(platform, "run")
    assert done.returncode == 0, done.stderr
    [callback] = platform.calls("/callback")
    assert callback.header("User-Agent") == USER_AGENT
    body: dict[str, object] = callback.body
    return body


@pytest.mark.parametrize(
    ("task", "value", "result"),
    [
        ("square", [7], 49),
        ("square", {"x": 6}, 36),
        ("greet", {"name": "ada"}, "hello ada!"),
        ("greet", ["bob", "?"], "hello bob?"),
        ("no_args", None, [5]),
        ("no_args", [], [5]),
    ],
)
def test_run_completes_with_the_wrapped_return_value(
    platform: FakePlatform, task: str, value: object, result: object
) -> None:
    body = _run(platform, task, value)

    assert set(body) == {"complete"}
    assert unb64(body["complete"]["output"]) == [result]  # type: ignore[index]


def test_run_failure_posts_message_and_traceback(platform: FakePlatform) -> None:
    body = _run(platform, "fail", ["it broke"])

    error = body["error"]
    assert error["details"] == "ValueError: it broke"  # type: ignore[index]
    assert "Traceback" in error["stack_trace"]  # type: ignore[index]
    assert "ValueError: it broke" in error["stack_trace"]  # type: ignore[index]
    assert "worker_app.py" in error["stack_trace"]  # type: ignore[index]


def test_unencodable_result_fails_the_run_not_the_worker(platform: FakePlatform) -> None:
    body = _run(platform, "unencodable", [])

    details = body["error"]["details"]  # type: ignore[index]
    assert "'unencodable' returned a value that cannot be encoded as JSON" in details
    assert "set" in details


def test_unknown_task_and_bad_input_fail_the_run(platform: FakePlatform) -> None:
    body = _run(platform, "nope", [])
    assert "no task named 'nope'" in body["error"]["details"]  # type: ignore[index]


def test_input_not_matching_parameters_fails_with_a_clear_message(platform: FakePlatform) -> None:
    body = _run(platform, "square", {"y": 1})
    details = body["error"]["details"]  # type: ignore[index]
    assert "arguments do not match the parameters of task 'square'" in details


def test_task_output_reaches_stdout_and_stderr(platform: FakePlatform) -> None:
    platform.add_run("square", [3])
    done = run_worker(platform, "run")

    assert done.returncode == 0
    assert "squaring 3" in done.stdout
    assert "square log 3" in done.stderr


def test_a_refused_callback_409_ends_the_run_quietly(platform: FakePlatform) -> None:
    platform.callback_status = 409
    platform.add_run("square", [3])

    done = run_worker(platform, "run")

    assert done.returncode == 0
    assert len(platform.calls("/callback")) == 1
    assert "render-workflows: notice: the platform did not take this run's result" in done.stderr


def test_input_that_is_not_an_array_or_object_fails_the_run(platform: FakePlatform) -> None:
    platform.inputs.append((200, {"task_name": "square", "input": b64(5)}))
    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    [callback] = platform.calls("/callback")
    assert (
        "task input must be a JSON array or object, got int 5" in callback.body["error"]["details"]
    )


def test_sys_exit_in_a_task_fails_the_run(platform: FakePlatform) -> None:
    body = _run(platform, "exits", [])
    assert body["error"]["details"] == "the task called sys.exit(3)"  # type: ignore[index]


def test_a_module_starting_the_worker_on_import_runs_once(platform: FakePlatform) -> None:
    platform.add_run("double", [21])
    done = run_worker(platform, "run", target="starts_on_import:app")

    assert done.returncode == 0, done.stderr
    assert len(platform.calls("/input")) == 1
    [callback] = platform.calls("/callback")
    assert unb64(callback.body["complete"]["output"]) == [42]
