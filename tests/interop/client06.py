"""Drive this engine with Render's published render_sdk 0.6.0 client (Render and RenderAsync),
every operation it has; print one JSON object.

Run with the interpreter of a virtualenv that has render_sdk==0.6.0 and RENDER_LOCAL_DEV_URL set.
(0.6.0's start_task takes no idempotency key.)
"""

import asyncio
import json
import sys
import time

from render_sdk import Render, RenderAsync
from render_sdk.client.errors import ClientError, TaskRunError


def plain(details):
    status = getattr(details.status, "value", details.status)
    return {"id": details.id, "status": str(status), "results": getattr(details, "results", None)}


def error(exc):
    return {"type": type(exc).__name__, "message": str(exc)}


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
    started = wf.start_task(prefix + "square", [6])
    out["start_task"] = {"id": started.id}
    out["get_task_run"] = plain(wf.get_task_run(started.id))
    # 0.6.0 lists items as {taskRun, cursor} objects.
    out["list_task_runs"] = [getattr(i, "task_run", i).id for i in wf.list_task_runs()]
    slow = wf.start_task(prefix + "sleepy", [60])
    wait_status(wf.get_task_run, slow.id, ("running",))
    wf.cancel_task_run(slow.id)
    out["canceled"] = wait_status(wf.get_task_run, slow.id, ("canceled",))
    try:
        wf.run_task(prefix + "fail", ["sync failure"])
        out["failure"] = None
    except TaskRunError as exc:
        out["failure"] = error(exc)
    try:
        wf.get_task_run("trn-does-not-exist")
        out["not_found"] = None
    except ClientError as exc:
        out["not_found"] = error(exc)
    out["events"] = []
    for event in wf.task_run_events([started.id]):
        out["events"].append(plain(event))
        break
    return out


async def async_part(prefix):
    render = RenderAsync()
    wf = render.workflows
    out = {}
    out["run_task"] = plain(await wf.run_task(prefix + "sum_squares", [5]))
    awaitable = await wf.start_task(prefix + "square", [7])
    out["start_await"] = plain(await awaitable)
    out["get_task_run"] = plain(await wf.get_task_run(awaitable.id))
    out["list_task_runs"] = [getattr(i, "task_run", i).id for i in await wf.list_task_runs()]
    slow = await wf.start_task(prefix + "sleepy", [60])
    await wf.cancel_task_run(slow.id)
    out["canceled"] = slow.id
    try:
        await wf.run_task(prefix + "fail", ["async failure"])
        out["failure"] = None
    except TaskRunError as exc:
        out["failure"] = error(exc)
    out["events"] = []
    async for event in wf.task_run_events([awaitable.id]):
        out["events"].append(plain(event))
        break
    return out


def main():
    prefix = sys.argv[1] + "/" if len(sys.argv) > 1 else ""
    print(json.dumps({"sync": sync_part(prefix), "async": asyncio.run(async_part(prefix))}))


if __name__ == "__main__":
    main()
