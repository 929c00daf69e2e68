"""A worker that speaks the callback API by hand and breaks its rules on purpose.

Started by the engine as ``-- python misbehaving_worker.py`` (one process per attempt). It uses
no SDK: raw HTTP/1.1 over ``RENDER_SDK_SOCKET_PATH``. Every request it sends and the status it got
back is appended, as one JSON line, to ``$E2_REPORT_DIR/<task name>.jsonl``, so a test can check
each answer. Each task is one scenario: the task name says which rules it breaks.
``wrong_order`` must act before its first ``GET /input``, so it runs when the file
``wrong_order.next`` is in the report folder (the test creates it just before starting that run).
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
from pathlib import Path
from typing import Any

SOCKET = os.environ["RENDER_SDK_SOCKET_PATH"]
REPORTS = Path(os.environ["E2_REPORT_DIR"])
SCENARIOS = [
    "ok",
    "wrong_order",
    "malformed",
    "twice",
    "unknown_subtask",
    "after_cancel",
    "socket_facts",
    "sleeper",
]
# Registered too: names that would climb out of a folder if anything used them as a path.
PATH_LIKE_NAMES = ["../../escape", "/etc/passwd", "..\\windows", "a/../../b"]


class UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix socket (kept alive between requests)."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(self.path)
        self.sock = sock


def b64(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


class Probe:
    """Sends requests and writes what came back to the scenario's report."""

    def __init__(self, scenario: str) -> None:
        self.report = REPORTS / f"{scenario}.jsonl"
        self.conn = UnixConnection(SOCKET)

    def send(
        self, label: str, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> Any:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        answer = self.conn.getresponse()
        text = answer.read().decode()
        parsed = json.loads(text) if text else None
        self.note(label, answer.status, parsed)
        return parsed

    def note(self, label: str, status: int | str, body: Any = None) -> None:
        with self.report.open("a") as out:
            out.write(json.dumps({"label": label, "status": status, "body": body}) + "\n")


def register() -> None:
    probe = Probe("register")
    probe.send("not json", "POST", "/register-tasks", raw=b"{nope")
    probe.send("tasks not a list", "POST", "/register-tasks", {"tasks": "all"})
    probe.send("input in register mode", "GET", "/input")
    probe.send("callback in register mode", "POST", "/callback", {"complete": {"output": b64([1])}})
    tasks = [
        {
            "name": name,
            "options": {"retry": {"max_retries": 0, "wait_duration_ms": 0, "factor": 1.0}},
            "parameters": [{"name": "arg", "has_default": True, "default_value": "null"}],
        }
        for name in SCENARIOS + PATH_LIKE_NAMES
    ]
    probe.send("register", "POST", "/register-tasks", {"tasks": tasks})
    probe.send("register again", "POST", "/register-tasks", {"tasks": tasks})


def raw_exchange(data: bytes) -> str:
    """Send bytes on a fresh connection; the first line of the answer (or what happened)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(SOCKET)
        sock.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
    finally:
        sock.close()


def task_name(probe: Probe) -> tuple[str, Any]:
    got = probe.send("input", "GET", "/input")
    raw = got["input"]
    value = json.loads(base64.b64decode(raw)) if raw else None
    return got["task_name"], value


def complete(probe: Probe, label: str, value: Any) -> None:
    probe.send(label, "POST", "/callback", {"complete": {"output": b64([value])}})


def wrong_order(probe: Probe) -> None:
    probe.send("callback before input", "POST", "/callback", {"complete": {"output": b64([1])}})
    probe.send("run-subtask before input", "POST", "/run-subtask", {"task_name": "ok", "input": ""})
    probe.send("result before input", "POST", "/get-subtask-result", {"task_run_id": "trn-x"})
    probe.send("register in run mode", "POST", "/register-tasks", {"tasks": []})
    probe.send("unknown endpoint", "GET", "/nowhere")
    probe.send("wrong method on /callback", "GET", "/callback")
    probe.send("wrong method on /input", "DELETE", "/input")
    task_name(probe)
    complete(probe, "callback", "in order at last")


def malformed(probe: Probe) -> None:
    task_name(probe)
    bad_callbacks: list[tuple[str, bytes]] = [
        ("callback: not JSON", b"{not json"),
        ("callback: not UTF-8", b'{"complete": "\xff\xfe"}'),
        ("callback: a list", b"[1, 2]"),
        ("callback: empty object", b"{}"),
        ("callback: empty body", b""),
        ("callback: complete not an object", b'{"complete": "x"}'),
        ("callback: complete without output", b'{"complete": {}}'),
        ("callback: output not base64", b'{"complete": {"output": "!!not base64!!"}}'),
        ("callback: output a number", b'{"complete": {"output": 5}}'),
        (
            "callback: base64 of non-JSON",
            json.dumps({"complete": {"output": base64.b64encode(b"{nope").decode()}}).encode(),
        ),
        (
            "callback: base64 of non-UTF-8",
            json.dumps(
                {"complete": {"output": base64.b64encode(b"\xff\xfe\xfd").decode()}}
            ).encode(),
        ),
        ("callback: error details not a string", b'{"error": {"details": 5}}'),
        ("callback: error not an object", b'{"error": "boom"}'),
    ]
    for label, data in bad_callbacks:
        probe.send(label, "POST", "/callback", raw=data)
    probe.send("run-subtask: no task_name", "POST", "/run-subtask", {"input": ""})
    probe.send("run-subtask: task_name a number", "POST", "/run-subtask", {"task_name": 7})
    probe.send(
        "run-subtask: input not base64", "POST", "/run-subtask", {"task_name": "ok", "input": "%%%"}
    )
    probe.send(
        "run-subtask: input a list", "POST", "/run-subtask", {"task_name": "ok", "input": [1]}
    )
    probe.send(
        "run-subtask: idempotency_key a number",
        "POST",
        "/run-subtask",
        {"task_name": "ok", "input": "", "idempotency_key": 5},
    )
    probe.send(
        "run-subtask: unknown task", "POST", "/run-subtask", {"task_name": "no_such", "input": ""}
    )
    probe.send("result: id a number", "POST", "/get-subtask-result", {"task_run_id": 5})
    probe.send(
        "result: wait_ms negative",
        "POST",
        "/get-subtask-result",
        {"task_run_id": "trn-x", "wait_ms": -1},
    )
    probe.send(
        "result: wait_ms a string",
        "POST",
        "/get-subtask-result",
        {"task_run_id": "trn-x", "wait_ms": "1"},
    )
    probe.note("raw: not HTTP", raw_exchange(b"\x16\x03\x01 hello there\r\n\r\n"))
    probe.note("raw: bad header", raw_exchange(b"POST /callback HTTP/1.1\r\nno colon here\r\n\r\n"))
    probe.note(
        "raw: body over the limit",
        raw_exchange(
            b"POST /callback HTTP/1.1\r\nHost: localhost\r\nContent-Length: 999999999999\r\n\r\n"
        ),
    )
    probe.note(
        "raw: bad content-length",
        raw_exchange(b"POST /callback HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n"),
    )
    complete(probe, "callback", "survived")


def twice(probe: Probe) -> None:
    task_name(probe)
    complete(probe, "first callback", "first")
    complete(probe, "second callback", "second")
    probe.send("error after complete", "POST", "/callback", {"error": {"details": "late"}})
    probe.send(
        "run-subtask after callback", "POST", "/run-subtask", {"task_name": "ok", "input": ""}
    )
    probe.send("input after callback", "GET", "/input")


def unknown_subtask(probe: Probe) -> None:
    other_run = task_name(probe)[1][0]
    probe.send(
        "result: unknown id", "POST", "/get-subtask-result", {"task_run_id": "trn-does-not-exist"}
    )
    probe.send("result: empty id", "POST", "/get-subtask-result", {"task_run_id": ""})
    probe.send("result: not a child", "POST", "/get-subtask-result", {"task_run_id": other_run})
    child = probe.send(
        "run-subtask", "POST", "/run-subtask", {"task_name": "ok", "input": b64(["child"])}
    )
    probe.send(
        "result: real child (long-poll)",
        "POST",
        "/get-subtask-result",
        {"task_run_id": child["task_run_id"], "wait_ms": 20000},
    )
    complete(probe, "callback", "done")


def after_cancel(probe: Probe) -> None:
    """Leave a helper outside this process group that calls back once the run was canceled."""
    task_name(probe)
    go = REPORTS / "after_cancel.go"
    helper = [sys.executable, __file__, "--late-callback", str(go)]
    subprocess.Popen(helper, start_new_session=True, env=dict(os.environ))
    probe.note("helper started", "ok")
    time.sleep(600)  # canceled (and killed) long before this ends


def late_callback(go: Path) -> None:
    probe = Probe("after_cancel")
    probe.send("input before cancel", "GET", "/input")
    probe.note("waiting for cancel", "ok")
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        complete(probe, "callback after cancel (kept connection)", "too late")
    except (OSError, http.client.HTTPException) as exc:
        probe.note("callback after cancel (kept connection)", type(exc).__name__)
    try:
        late = Probe("after_cancel")
        complete(late, "callback after cancel (new connection)", "too late")
    except (OSError, http.client.HTTPException) as exc:
        probe.note("callback after cancel (new connection)", type(exc).__name__)


def socket_facts(probe: Probe) -> None:
    task_name(probe)
    folder = os.path.dirname(SOCKET)
    facts = {
        "socket": SOCKET,
        "socket_mode": oct(os.stat(SOCKET).st_mode & 0o777),
        "dir_mode": oct(os.stat(folder).st_mode & 0o777),
        "dir_owner_is_me": os.stat(folder).st_uid == os.getuid(),
        "engine_key_visible": "RENDER_WORKFLOWS_DEV_API_KEY" in os.environ,
    }
    probe.note("facts", "ok", facts)
    complete(probe, "callback", facts)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--late-callback":
        late_callback(Path(sys.argv[2]))
        return
    mode = os.environ["RENDER_SDK_MODE"]
    if mode == "register":
        register()
        return
    flag = REPORTS / "wrong_order.next"
    if flag.exists():  # this attempt breaks the call order before it even asks for its input
        flag.unlink()
        wrong_order(Probe("wrong_order"))
        return
    conn = UnixConnection(SOCKET)
    conn.request("GET", "/input")
    peek = json.loads(conn.getresponse().read())
    conn.close()
    scenario = peek["task_name"]
    probe = Probe(scenario)
    if scenario == "ok" or scenario in PATH_LIKE_NAMES:
        probe = Probe("ok")
        complete(probe, "callback", task_name(probe)[1][0])
    elif scenario == "sleeper":
        task_name(probe)
        time.sleep(600)
    else:
        globals()[scenario](probe)


if __name__ == "__main__":
    main()
