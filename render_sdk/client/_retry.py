"""The client's one retry policy: which failures to retry and how long to wait before each retry.

Retried, for requests that are safe to repeat (GET, DELETE, the event stream, and a start only
when it carries an idempotency key): connection failures (``ServerError`` without a status),
HTTP 429 and HTTP 500/502/503/504. Read timeouts are not retried: they surface as
:class:`~render_sdk.client.errors.TimeoutError` after the time the caller allowed.

Two budgets, both the caller's (``Render(max_retries=..., reconnect_patience=...)``):

- ``max_retries``: retries of a request while the server has not been reached. A client pointed
  at nothing fails after ``max_retries`` quick retries, saying it could not connect.
- ``reconnect_patience``: seconds a wait for a run (``run_task``, ``await run``, an event stream
  that was healthy) keeps reconnecting after it lost a server it had reached, e.g. while a local
  engine restarts.

The wait is the server's ``Retry-After`` when it sent one (capped), otherwise exponential backoff
with jitter: ``initial * 2**n`` capped at ``maximum``, of which a random half is kept.

    policy = RetryPolicy(max_retries=5)
    retries = Retries(policy)
    delay = retries.delay(exc)  # None: do not retry
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import attrs

from render_sdk.client import _constants as C
from render_sdk.client.errors import RateLimitError, RenderError, ServerError


@attrs.frozen
class RetryPolicy:
    """Decides whether a failed request is retried, and after how many seconds.

    >>> RetryPolicy(max_retries=0).delay(0, ServerError("down")) is None
    True
    """

    max_retries: int = C.DEFAULT_MAX_RETRIES
    reconnect_patience: float = C.DEFAULT_RECONNECT_PATIENCE
    initial: float = C.BACKOFF_INITIAL
    maximum: float = C.BACKOFF_MAX
    retry_after_max: float = C.RETRY_AFTER_MAX
    statuses: frozenset[int] = C.RETRY_STATUSES

    def retryable(self, error: RenderError) -> bool:
        """True for the failures worth trying again: connection errors, 429, 500/502/503/504."""
        if isinstance(error, RateLimitError):
            return True
        if isinstance(error, ServerError):
            return error.status_code is None or error.status_code in self.statuses
        return False

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (0-based): exponential, capped, jittered."""
        ceiling = min(self.maximum, self.initial * 2.0 ** min(attempt, 30))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def delay(self, attempt: int, error: RenderError) -> float | None:
        """Seconds to wait before retry number ``attempt`` (0-based) after ``error``, or None.

        None means "do not retry": the error is not transient or the retries are used up.
        """
        if attempt >= self.max_retries or not self.retryable(error):
            return None
        if error.retry_after is not None:
            return min(error.retry_after, self.retry_after_max)
        return self.backoff(attempt)


class Retries:
    """The retries of one operation under a :class:`RetryPolicy`.

    Until the server has been reached, failures count against ``max_retries``. With
    ``reconnect=True`` (waits for a run, and starts that carry an idempotency key), once the
    server has been reached (``reached=True``, :meth:`reached_server`, or a failure of a request
    that reached it: an error answer, a connection made and then lost) retryable failures are
    retried for up to ``reconnect_patience`` seconds from the first of them, with a short
    backoff.

    >>> Retries(RetryPolicy(max_retries=0)).delay(ServerError("down")) is None
    True
    """

    __slots__ = ("_attempt", "_clock", "_lost_at", "_reached", "_reconnect", "enabled", "policy")

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        enabled: bool = True,
        reconnect: bool = False,
        reached: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.policy = policy
        self.enabled = enabled
        self._reconnect = reconnect
        self._reached = reached
        self._clock = clock or time.monotonic
        self._attempt = 0
        self._lost_at: float | None = None

    def reached_server(self) -> None:
        """The server answered: later failures are losses of a known server."""
        self._reached = True
        self._lost_at = None
        self._attempt = 0

    def delay(self, error: RenderError, *, reached: bool = False) -> float | None:
        """Seconds to wait before trying again after ``error``, or None to give up.

        ``reached``: the failed request reached the server (it answered with an error, or a
        connection to it was made and then broke), as opposed to a connection that could not be
        made at all.
        """
        if not self.enabled or not self.policy.retryable(error):
            return None
        if self._reconnect and (self._reached or reached or self._lost_at is not None):
            return self._reconnect_delay(error)
        if self._attempt >= self.policy.max_retries:
            return None
        delay = self.policy.delay(self._attempt, error)
        self._attempt += 1
        return delay

    def _reconnect_delay(self, error: RenderError) -> float | None:
        now = self._clock()
        if self._lost_at is None:
            self._lost_at, self._attempt = now, 0
        left = self._lost_at + self.policy.reconnect_patience - now
        if left <= 0:
            return None
        if error.retry_after is not None:
            delay = min(error.retry_after, self.policy.retry_after_max)
        else:
            ceiling = min(C.RECONNECT_MAX, C.RECONNECT_INITIAL * 2.0 ** min(self._attempt, 30))
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        self._attempt += 1
        return min(delay, left)

    def gave_up(self, error: RenderError) -> RenderError:
        """``error``, saying how long the client kept reconnecting if it did."""
        if self._lost_at is None or not isinstance(error, ServerError):
            return error
        waited = self.policy.reconnect_patience
        return ServerError(
            f"{error.message} (gave up after reconnecting for {waited:g} s, the client's "
            "reconnect_patience)",
            operation=error.operation,
            status_code=error.status_code,
            server_message=error.server_message,
            error_id=error.error_id,
            retry_after=error.retry_after,
        )


def poll_delay(attempt: int) -> float:
    """Seconds between two polls of a run's status when the event stream is unavailable.

    Starts at ``POLL_INITIAL`` and doubles up to ``POLL_MAX``, jittered like retries.

        >>> 0 < poll_delay(0) <= 0.05
        True
    """
    return RetryPolicy(initial=C.POLL_INITIAL, maximum=C.POLL_MAX).backoff(attempt)
