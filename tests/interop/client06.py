"""Drive this engine with Render's published render_sdk 0.6.0 client; print one JSON line a step.

Run with the interpreter of a virtualenv that has render_sdk==0.6.0 and RENDER_LOCAL_DEV_URL set.
"""

import asyncio
import json
import sys

from render_sdk import Render, RenderAsync


def plain(details):
    status = getattr(details.status, "value", details.status)
    return {"id": details.id, "status": str(status), "results": getattr(details, "results", None)}


def main():
    render = Render()
    out = {}
    out["run_task"] = plain(render.workflows.run_task(sys.argv[1] + "/square", [5]))
    started = render.workflows.start_task(sys.argv[1] + "/square", [6])
    out["start_task"] = {"id": started.id}
    out["get_task_run"] = plain(render.workflows.get_task_run(started.id))
    # 0.6.0 lists items as {taskRun, cursor} objects.
    items = render.workflows.list_task_runs()
    out["list_task_runs"] = [getattr(item, "task_run", item).id for item in items]

    async def async_part():
        client = RenderAsync()
        awaitable = await client.workflows.start_task(sys.argv[1] + "/square", [7])
        details = await awaitable
        return plain(details)

    out["async_start_await"] = asyncio.run(async_part())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
