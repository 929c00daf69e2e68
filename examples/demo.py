"""The main job: start the local engine on examples/main.py, run tasks from a client, show results.

    python examples/demo.py

It starts ``render-workflows dev main:app`` on a free loopback port with a database in a temporary
folder, points the client at it through ``RENDER_LOCAL_DEV_URL``, and stops the engine at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

EXAMPLES = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base_url: str, engine: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll GET /v1/tasks until the engine answers 200 (its readiness signal)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.poll() is not None:
            raise SystemExit(f"the engine exited ({engine.returncode}) before it was ready")
        try:
            if httpx.get(f"{base_url}/v1/tasks", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the engine did not become ready within {timeout:.0f} s")


def show(title: str, value: object) -> None:
    print(f"  {title:<34} {value}")


def run_client_examples() -> None:
    from render_sdk import Render, RenderAsync
    from render_sdk.client import ListTaskRunsParams
    from render_sdk.client.errors import TaskRunError

    print("\n== blocking client (Render) ==")
    with Render() as render:
        details = render.workflows.run_task("example/square", [7])
        show("run_task square(7)", f"{details.result}  (status {details.status}, run {details.id})")

        run = render.workflows.start_task("example/greet", {"name": "Render"})
        show("start_task greet", f"run {run.id} is {run.status}")
        for event in render.workflows.task_run_events([run.id]):
            show("task_run_events greet", f"{event.result!r} ({event.status})")

        details = render.workflows.run_task("example/sum_squares", [10])
        show("sum_squares(10), 10 subtasks", details.result)
        children = render.workflows.list_task_runs(
            ListTaskRunsParams(root_task_run_id=details.id, limit=100)
        )
        show("runs in that tree", len(children))

        try:
            render.workflows.run_task("example/divide", [1, 0])
        except TaskRunError as exc:
            show("divide(1, 0) failed as expected", exc.error)

        try:
            details = render.workflows.run_task("example/flaky", [0.5])
            show("flaky: attempts used", f"{len(details.attempts)} -> {details.result}")
        except TaskRunError as exc:  # all four attempts failed: it happens one time in 16
            failed = render.workflows.get_task_run(exc.task_run_id)
            show("flaky: every attempt failed", f"{len(failed.attempts)} attempts")

        page = render.workflows.list_task_runs(ListTaskRunsParams(limit=3))
        show("list_task_runs(limit=3)", [f"{r.id}:{r.status}" for r in page])
        show("next page cursor", page.next_cursor)

    print("\n== async client (RenderAsync) ==")

    async def async_examples() -> None:
        async with RenderAsync() as render:
            runs = [await render.workflows.start_task("square", [i]) for i in range(5)]
            results = await asyncio.gather(*runs)
            show("5 concurrent squares", [d.result for d in results])
            fetched = await render.workflows.get_task_run(runs[0].id)
            show("get_task_run", f"{fetched.id} -> {fetched.result}")

    asyncio.run(async_examples())


def main() -> int:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="render-demo-") as tmp:
        db = str(Path(tmp) / "workflows.db")
        command = [sys.executable, "-m", "render_sdk.cli", "dev", "--port", str(port)]
        command += ["--db", db, "main:app"]
        print("$ (cd examples &&", " ".join(["render-workflows", *command[3:]]) + ")")
        console = Path(tmp) / "engine.log"
        with console.open("wb") as out:
            engine = subprocess.Popen(command, cwd=EXAMPLES, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(base_url, engine)
            os.environ["RENDER_LOCAL_DEV_URL"] = base_url
            run_client_examples()
        finally:
            engine.send_signal(signal.SIGINT)
            try:
                engine.wait(timeout=30)
            except subprocess.TimeoutExpired:
                engine.kill()
                engine.wait()
        lines = console.read_text(errors="replace").splitlines()
        print(f"\n== the engine's console (last 25 of {len(lines)} lines) ==")
        print("\n".join(lines[-25:]))
        print(f"\nengine stopped (exit status {engine.returncode})")
        return 0 if engine.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
