"""A module that calls app.start() at import time, without a __main__ guard."""

from __future__ import annotations

from render_sdk import Workflows

app = Workflows()


@app.task
def double(x: int) -> int:
    return 2 * x


app.start()
