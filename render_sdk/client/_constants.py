"""Defaults of the REST client, in one place. Each can be overridden per client.

>>> from render_sdk.client import _constants
>>> _constants.DEFAULT_MAX_RETRIES
3
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.render.com"
LOCAL_DEV_URL = "http://localhost:8120"
API_PREFIX = "/v1"

ENV_API_KEY = "RENDER_API_KEY"
ENV_LOCAL_DEV_URL = "RENDER_LOCAL_DEV_URL"
ENV_USE_LOCAL_DEV = "RENDER_USE_LOCAL_DEV"
TRUTHY = frozenset({"1", "t", "true"})

# Seconds for one HTTP request (connect, read, write and pool wait each).
DEFAULT_TIMEOUT = 30.0
# Seconds the event stream may stay silent before it is treated as dropped. Servers send
# heartbeat comments while idle, so a healthy stream is never this quiet.
STREAM_READ_TIMEOUT = 90.0

# Retries after the first try, for requests that are safe to repeat.
DEFAULT_MAX_RETRIES = 3
BACKOFF_INITIAL = 0.25  # seconds before the first retry
BACKOFF_MAX = 8.0  # cap of one backoff delay
RETRY_AFTER_MAX = 60.0  # cap of a server's Retry-After
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Waiting for a run when the event stream is unavailable: poll with backoff.
POLL_INITIAL = 0.05
POLL_MAX = 2.0
# Statuses of the event stream request that mean "this server does not stream": fall back to
# polling instead of failing.
STREAM_UNAVAILABLE_STATUSES = frozenset({404, 405, 406, 501})
# Seconds a wait for a run (``run_task``, awaiting a started run, an event stream that was
# healthy) keeps reconnecting after it lost a server it had reached: long enough for a local
# engine to restart on a loaded machine. Failures before the server was ever reached follow
# ``max_retries`` instead.
DEFAULT_RECONNECT_PATIENCE = 30.0
# Backoff between reconnection attempts: short, since the server is known to exist.
RECONNECT_INITIAL = 0.05
RECONNECT_MAX = 1.0
# Seconds run_task asks the server to hold its start answer until the run finishes
# (``Prefer: wait``, honored by the local engine): one request instead of a start and an event
# stream. At most half the request timeout; a run still going after it is awaited on events.
RUN_TASK_WAIT = 10
# Runs awaited together by the async client share one event stream, up to this many ids each.
STREAM_MAX_IDS = 50

MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 64
