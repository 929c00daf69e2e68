"""The callback API's names and data encoding, shared by the worker and the local engine.

The callback API is the wire between a worker process and the platform over a Unix socket
(docs/protocol-extensions.md describes what this SDK adds to it). Both sides import the paths,
headers and codec from here, so they cannot drift apart. Standard library only: the worker's
import stays light.
"""

from __future__ import annotations

import base64
import json
from typing import Any

# Paths
INPUT = "/input"
CALLBACK = "/callback"
RUN_SUBTASK = "/run-subtask"
GET_SUBTASK_RESULT = "/get-subtask-result"
REGISTER_TASKS = "/register-tasks"
PATHS = (INPUT, CALLBACK, RUN_SUBTASK, GET_SUBTASK_RESULT, REGISTER_TASKS)

# Headers (case-insensitive on the wire; the engine compares lower-cased names)
ATTEMPT_HEADER = "Render-Attempt-Id"  # serve mode: the attempt a request is about
# Serve mode: a callback with "1" is answered with the worker's next input, and says so.
NEXT_INPUT_HEADER = "Render-Next-Input"
# On a callback, "drained": the attempt's output was all read already, no end markers follow.
OUTPUT_HEADER = "Render-Output"
# On a /get-subtask-result answer: the engine held the request (long poll), "1".
LONG_POLL_HEADER = "Render-Long-Poll"

# The line a reused worker writes to stdout and stderr after each attempt, before its id.
END_OF_ATTEMPT = "\x1erender-sdk:end-of-attempt"


def encode(value: Any, *, allow_nan: bool = False) -> str:
    """Task data as the callback API carries it: base64 of UTF-8 JSON. Raises TypeError or
    ValueError for a value JSON cannot hold (NaN and infinities too, unless ``allow_nan``).

    >>> encode([1])
    'WzFd'
    """
    text = json.dumps(value, allow_nan=allow_nan, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode(data: str) -> Any:
    """The value of base64 JSON; an empty string decodes to None. Raises ValueError (a
    ``binascii.Error``, ``UnicodeDecodeError`` or ``json.JSONDecodeError``) for anything else.

    >>> decode("WzFd"), decode("")
    ([1], None)
    """
    if not data:
        return None
    return json.loads(base64.b64decode(data, validate=True).decode("utf-8"))
