"""Context-style tasks in a real worker process against a scripted platform."""

from __future__ import annotations

from typing import Any

from tests.worker._platform import FakePlatform, Outcome, b64, unb64
from tests.worker.conftest import run_worker


def _callback(platform: FakePlatform) -> dict[str, Any]:
    [callback] = platform.calls("/callback")
    body: dict[str, Any] = callback.body
    return body


def test_metadata_comes_from_input(platform: FakePlatform) -> None:
    platform.inputs.append(
        (
            200,
            {
                "task_name": "ctx_meta",
                "input": "",
                "task_run_id": "trn-child",
                "root_task_run_id": "trn-root",
                "parent_task_run_id": "trn-root",
            },
        )
    )
    done = run_worker(platform, "run")
    assert done.returncode == 0, done.stderr
    assert unb64(_callback(platform)["complete"]["output"]) == [
        ["trn-child", "trn-root", "trn-root"]
    ]


def test_metadata_is_none_when_the_platform_sends_no_ids(platform: FakePlatform) -> None:
    # A platform that predates the ids (as Render's 0.6.0-era wire): None everywhere, no error.
    platform.inputs.append((200, {"task_name": "ctx_meta", "input": b64([]), "task_run_id": ""}))
    done = run_worker(platform, "run")
    assert done.returncode == 0, done.stderr
    assert unb64(_callback(platform)["complete"]["output"]) == [[None, None, None]]


def test_ctx_run_fans_out_through_the_callback_api(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(
        value=(value[0] if isinstance(value, list) else value["a"]) ** 2, delay=0.1
    )
    platform.add_run("ctx_fan_out", [8])
    done = run_worker(platform, "run")
    assert done.returncode == 0, done.stderr
    assert unb64(_callback(platform)["complete"]["output"]) == [sum(i * i for i in range(8)) + 100]
    starts = platform.calls("/run-subtask")
    assert {c.body["task_name"] for c in starts} == {"ctx_square"}
    inputs = [unb64(c.body["input"]) for c in starts]
    assert sorted(i[0] for i in inputs if isinstance(i, list)) == list(range(8))
    assert {"a": 10} in inputs  # named arguments travel as a JSON object
    assert len({c.body["idempotency_key"] for c in starts}) == 9
    assert all(c.body["created_at"] for c in starts)


def test_a_failed_subtask_raises_subtask_error(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(error="no squares today")
    platform.add_run("ctx_catch", [])
    done = run_worker(platform, "run")
    assert done.returncode == 0, done.stderr
    assert unb64(_callback(platform)["complete"]["output"]) == ["SubtaskError: no squares today"]


def test_ctx_run_misuse_fails_the_run_with_a_clear_error(platform: FakePlatform) -> None:
    platform.add_run("ctx_misuse", ["mixed"])
    platform.add_run("ctx_misuse", ["plain"])
    first = run_worker(platform, "run")
    second = run_worker(platform, "run")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    mixed, plain = (c.body["error"]["details"] for c in platform.calls("/callback"))
    assert "both positional and keyword arguments" in mixed
    assert "'square' takes no context" in plain
    assert platform.calls("/run-subtask") == []


def test_registration_leaves_the_context_out(platform: FakePlatform) -> None:
    done = run_worker(platform, "register")
    assert done.returncode == 0, done.stderr
    [registered] = platform.calls("/register-tasks")
    by_name = {t["name"]: t for t in registered.body["tasks"]}
    assert by_name["ctx_meta"]["parameters"] == []
    assert by_name["ctx_square"]["parameters"] == [
        {"name": "a", "has_default": False, "type": "int"}
    ]


def test_the_first_input_request_reports_start_up_times(platform: FakePlatform) -> None:
    platform.add_run("square", [2], attempt_id="a1")
    platform.add_run("square", [3], attempt_id="a2")
    platform.inputs.append((410, {}))
    platform.next_input = False
    done = run_worker(platform, "serve")
    assert done.returncode == 0, done.stderr
    first, *later = platform.calls("/input")
    params = dict(item.split("=") for item in first.query.split("&"))
    assert set(params) == {"sdk_import_started_at", "sdk_import_finished_at", "sdk_started_at"}
    started, finished, sdk = (
        int(params[k])
        for k in ("sdk_import_started_at", "sdk_import_finished_at", "sdk_started_at")
    )
    assert 0 < started <= finished <= sdk
    assert later and all(call.query == "" for call in later)  # only the first attempt paid
