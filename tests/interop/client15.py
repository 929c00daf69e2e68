"""Drive this engine with Render's published render 1.5.0 client (Render and RenderAsync), every
operation; print one JSON object.

Run with the interpreter of a virtualenv that has render==1.5.0 and render-sdk==1.5.0, with
RENDER_LOCAL_DEV_URL set. Imports go through ``render_sdk`` (1.5.0's compatibility name), as a
user's program written for it would.
"""

import asyncio
import json
import sys
import time
import uuid
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # render_sdk is 1.5.0's alias of render

from render_sdk import Render, RenderAsync  # noqa: E402
from render_sdk.client.errors import ClientError, TaskRunError  # noqa: E402


def plain(details):
    status = getattr(details.status, "value", details.status)
    attempts = [
        {
            "attempt": a.attempt,
            "status": getattr(a.status, "value", a.status),
            "task_run_id": None if type(a.task_run_id).__name__ == "Unset" else a.task_run_id,
        }
        for a in details.attempts
    ]
    return {
        "id": details.id,
        "status": str(status),
        "results": getattr(details, "results", None),
        "attempts": attempts,
    }


def error(exc):
    return {"type": type(exc).__name__, "message": str(exc), "code": getattr(exc, "code", None)}


def wait_status(get, run_id, wanted):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = getattr(get(run_id).status, "value", None)
        if status in wanted:
            return status
        time.sleep(0.1)
    return "timeout"


def sync_part(prefix):
    render = Render()
    wf = render.workflows
    out = {}
    out["run_task"] = plain(wf.run_task(prefix + "square", [5]))
    out["run_task_named"] = plain(wf.run_task(prefix + "named_input", {"a": 4}))
    key = str(uuid.uuid4())
    first = wf.start_task(prefix + "square", [6], idempotency_key=key)
    again = wf.start_task(prefix + "square", [6], idempotency_key=key)
    out["idempotent"] = {"first": first.id, "again": again.id}
    try:
        wf.start_task(prefix + "square", [7], idempotency_key=key)
        out["idempotent_conflict"] = None
    except ClientError as exc:
        out["idempotent_conflict"] = error(exc)
    out["await_started"] = plain(wf.run_task(prefix + "square", [6], idempotency_key=key))
    out["get_task_run"] = plain(wf.get_task_run(first.id))
    out["list_task_runs"] = [item.task_run.id for item in wf.list_task_runs()]
    slow = wf.start_task(prefix + "sleepy", [60])
    wait_status(wf.get_task_run, slow.id, ("running",))
    wf.cancel_task_run(slow.id)
    out["canceled"] = {
        "id": slow.id,
        "status": wait_status(wf.get_task_run, slow.id, ("canceled",)),
    }
    try:
        wf.cancel_task_run(slow.id)
        out["cancel_again"] = None
    except ClientError as exc:
        out["cancel_again"] = error(exc)
    try:
        wf.run_task(prefix + "always_fails", ["sync failure"])
        out["failure"] = None
    except TaskRunError as exc:
        out["failure"] = error(exc)
    try:
        wf.get_task_run("trn-does-not-exist")
        out["not_found"] = None
    except ClientError as exc:
        out["not_found"] = error(exc)
    events = []
    for event in wf.task_run_events([first.id]):
        events.append(plain(event))
        break
    out["events"] = events
    return out


async def async_part(prefix):
    render = RenderAsync()
    wf = render.workflows
    out = {}
    out["run_task"] = plain(await wf.run_task(prefix + "sum_squares", [6]))
    started = await wf.start_task(prefix + "square", [8])
    out["start_await"] = plain(await started)
    key = str(uuid.uuid4())
    first = await wf.start_task(prefix + "square", [9], idempotency_key=key)
    again = await wf.start_task(prefix + "square", [9], idempotency_key=key)
    out["idempotent"] = {"first": first.id, "again": again.id}
    out["get_task_run"] = plain(await wf.get_task_run(first.id))
    out["list_task_runs"] = [item.task_run.id for item in await wf.list_task_runs()]
    slow = await wf.start_task(prefix + "sleepy", [60])
    await wf.cancel_task_run(slow.id)
    out["canceled"] = {"id": slow.id}
    try:
        await wf.run_task(prefix + "always_fails", ["async failure"])
        out["failure"] = None
    except TaskRunError as exc:
        out["failure"] = error(exc)
    events = []
    async for event in wf.task_run_events([started.id]):
        events.append(plain(event))
        break
    out["events"] = events
    return out


def main():
    prefix = sys.argv[1] + "/" if len(sys.argv) > 1 else ""
    print(json.dumps({"sync": sync_part(prefix), "async": asyncio.run(async_part(prefix))}))


if __name__ == "__main__":
    main()
