"""A stdlib-only worker that speaks the callback API (register, run and serve modes).

The engine's tests start it as a start command (``python plain_worker.py``) or, for serve mode,
as the serve command. Each task exercises one behaviour of the engine.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import traceback
from typing import Any

TASKS: list[dict[str, Any]] = [
    {"name": "noop", "parameters": []},
    {"name": "square", "parameters": [{"name": "x", "has_default": False, "type": "int"}]},
    {
        "name": "add",
        "parameters": [
            {"name": "a", "has_default": False},
            {"name": "b", "has_default": True, "default_value": "1"},
        ],
    },
    {"name": "fail", "parameters": [{"name": "message", "has_default": False}]},
    {
        "name": "always_fail",
        "options": {"retry": {"max_retries": 2, "wait_duration_ms": 150, "factor": 2.0}},
        "parameters": [],
    },
    {
        "name": "crash_then_ok",
        "options": {"retry": {"max_retries": 1, "wait_duration_ms": 0, "factor": 1.0}},
        "parameters": [{"name": "marker", "has_default": False}],
    },
    {
        "name": "sleep",
        "options": {"timeout_seconds": 1},
        "parameters": [{"name": "s", "has_default": False}],
    },
    {"name": "long_sleep", "parameters": [{"name": "s", "has_default": False}]},
    {"name": "crash", "parameters": [{"name": "code", "has_default": False}]},
    {"name": "fan_out", "parameters": [{"name": "n", "has_default": False}]},
    {"name": "call_fail", "parameters": []},
    {"name": "sleeper_tree", "parameters": [{"name": "pidfile", "has_default": False}]},
    {"name": "chatty", "parameters": [{"name": "n", "has_default": False}]},
    {"name": "pid", "parameters": []},
    {"name": "subtask_twice", "parameters": []},
    {"name": "sleep_once", "parameters": [{"name": "marker", "has_default": False}]},
    {"name": "environment", "parameters": []},
]
if os.environ.get("EXTRA_TASKS_FILE") and os.path.exists(os.environ["EXTRA_TASKS_FILE"]):
    with open(os.environ["EXTRA_TASKS_FILE"]) as extra:
        TASKS += [{"name": name.strip(), "parameters": []} for name in extra if name.strip()]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        self.sock = sock


class Client:
    def __init__(self, path: str) -> None:
        self.conn = UnixHTTPConnection(path)
        self.attempt_id: str | None = None

    def call(self, method: str, target: str, body: Any = None) -> tuple[int, Any, Any]:
        headers = {"Content-Type": "application/json"}
        if self.attempt_id is not None:
            headers["Render-Attempt-Id"] = self.attempt_id
        data = None if body is None else json.dumps(body).encode()
        self.conn.request(method, target, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None), resp


def enc(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def dec(value: str) -> Any:
    return json.loads(base64.b64decode(value)) if value else []


def subtask(client: Client, name: str, args: list[Any], key: str | None = None) -> Any:
    body: dict[str, Any] = {
        "task_name": name,
        "input": enc(args),
        "created_at": "2026-01-01T00:00:00Z",
    }
    if key is not None:
        body["idempotency_key"] = key
    status, answer, _ = client.call("POST", "/run-subtask", body)
    if status != 200:
        raise RuntimeError(f"run-subtask answered {status}: {answer}")
    return answer["task_run_id"]


def wait_result(client: Client, run_id: str) -> Any:
    while True:
        status, answer, _ = client.call(
            "POST", "/get-subtask-result", {"task_run_id": run_id, "wait_ms": 30000}
        )
        if status != 200:
            raise RuntimeError(f"get-subtask-result answered {status}: {answer}")
        if answer["still_running"]:
            continue
        if "complete" in answer:
            return dec(answer["complete"]["output"])[0]
        raise RuntimeError("subtask failed: " + answer["error"]["details"])


def execute(client: Client, name: str, args: Any) -> Any:
    if isinstance(args, dict):
        args = list(args.values())
    if name == "noop":
        return None
    if name == "square":
        return args[0] * args[0]
    if name == "add":
        return args[0] + (args[1] if len(args) > 1 else 1)
    if name == "fail":
        raise ValueError(args[0])
    if name == "always_fail":
        raise RuntimeError("always fails")
    if name == "crash_then_ok":
        if not os.path.exists(args[0]):
            open(args[0], "w").close()
            print("crashing on purpose", file=sys.stderr, flush=True)
            os._exit(3)
        return "ok"
    if name in ("sleep", "long_sleep"):
        time.sleep(args[0])
        return "slept"
    if name == "crash":
        print("about to crash", file=sys.stderr, flush=True)
        print("the last words", file=sys.stderr, flush=True)
        os._exit(args[0])
    if name == "fan_out":
        ids = [subtask(client, "square", [i]) for i in range(args[0])]
        return sum(wait_result(client, i) for i in ids)
    if name == "call_fail":
        child = subtask(client, "fail", ["child broke"])
        try:
            wait_result(client, child)
        except RuntimeError as exc:
            return str(exc)
        return "no error"
    if name == "sleeper_tree":
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open(args[0], "a") as f:
            f.write(f"{os.getpid()} {grandchild.pid}\n")
        child = subtask(client, "long_sleep", [120])
        return wait_result(client, child)
    if name == "chatty":
        for i in range(args[0]):
            print(f"line {i}")
            print(f"err {i}", file=sys.stderr)
        return args[0]
    if name == "pid":
        print(f"pid {os.getpid()}")
        return os.getpid()
    if name == "environment":
        socket_dir = os.path.dirname(os.environ["RENDER_SDK_SOCKET_PATH"])
        return {
            "mode": os.environ["RENDER_SDK_MODE"],
            "my_var": os.environ.get("MY_VAR"),
            "cwd": os.getcwd(),
            "socket_dir_mode": oct(os.stat(socket_dir).st_mode & 0o777),
            "own_group": os.getpgid(0) == os.getpid(),
        }
    if name == "sleep_once":
        if not os.path.exists(args[0]):
            with open(args[0], "w") as f:
                f.write(str(os.getpid()))
            time.sleep(120)
        return "second time"
    if name == "subtask_twice":
        a = subtask(client, "square", [4], key="same-key")
        b = subtask(client, "square", [4], key="same-key")
        return [a == b, wait_result(client, a)]
    raise LookupError(f"unknown task {name}")


def run_one(client: Client, body: dict[str, Any]) -> None:
    try:
        result = execute(client, body["task_name"], dec(body["input"]))
        outcome: dict[str, Any] = {"complete": {"output": enc([result])}}
    except Exception as exc:
        outcome = {"error": {"details": str(exc), "stack_trace": traceback.format_exc()}}
    if client.attempt_id is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        for stream in (sys.stdout, sys.stderr):
            stream.write(f"\x1erender-sdk:end-of-attempt {client.attempt_id}\n")
            stream.flush()
    client.call("POST", "/callback", outcome)


def main() -> int:
    mode = os.environ["RENDER_SDK_MODE"]
    client = Client(os.environ["RENDER_SDK_SOCKET_PATH"])
    if mode == "register":
        status, _, _ = client.call("POST", "/register-tasks", {"tasks": TASKS})
        return 0 if status == 200 else 1
    if mode == "run":
        status, body, _ = client.call("GET", "/input")
        run_one(client, body)
        return 0
    while True:  # serve
        client.attempt_id = None
        status, body, _ = client.call("GET", "/input")
        if status == 410:
            return 0
        if status == 204:
            continue
        client.attempt_id = body["attempt_id"]
        run_one(client, body)


if __name__ == "__main__":
    sys.exit(main())
