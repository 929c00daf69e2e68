"""Tasks for the SSE load test: a quick task with a padded result, and a gate held by the test.

``gate`` connects to a TCP port of the test and returns when the test closes the connection, so
the test decides when that run ends without any polling.
"""

from __future__ import annotations

import socket
import time

from render_sdk import Workflows

app = Workflows()


@app.task
def double(i: int, pad: int) -> dict[str, object]:
    """``2 * i`` with ``pad`` bytes of filler, so event frames have some weight."""
    time.sleep(0.005)
    return {"i": i, "double": 2 * i, "pad": "x" * pad}


@app.task
def gate(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.recv(1)
    return "released"


if __name__ == "__main__":
    app.start()
