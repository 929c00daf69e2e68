"""The client's one retry policy: which failures to retry and how long to wait before each retry.

Retried, for requests that are safe to repeat (GET, DELETE, the event stream, and ``start_task``
only when it carries an idempotency key): connection failures (``ServerError`` without a status),
HTTP 429 and HTTP 500/502/503/504. Read timeouts are not retried: they surface as
:class:`~render_sdk.client.errors.TimeoutError` after the time the caller allowed.

The wait is the server's ``Retry-After`` when it sent one (capped), otherwise exponential backoff
with jitter: ``initial * 2**n`` capped at ``maximum``, of which a random half is kept.

    policy = RetryPolicy(max_retries=5)
    delay = policy.delay(attempt=0, error=exc)  # None: do not retry
"""

from __future__ import annotations

import random

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


def poll_delay(attempt: int) -> float:
    """Seconds between two polls of a run's status when the event stream is unavailable.

    Starts at ``POLL_INITIAL`` and doubles up to ``POLL_MAX``, jittered like retries.

        >>> 0 < poll_delay(0) <= 0.05
        True
    """
    return RetryPolicy(initial=C.POLL_INITIAL, maximum=C.POLL_MAX).backoff(attempt)
