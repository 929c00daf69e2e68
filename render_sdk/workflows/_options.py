"""Task options: :class:`Retry`, timeouts and plans, and the checks applied to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from render_sdk.workflows._errors import InvalidTaskOptions

PLANS = ("starter", "standard", "pro", "pro_plus", "pro_max", "pro_ultra")
"""Compute plans a task may ask for (``standard`` is the platform's default)."""

MIN_TIMEOUT_SECONDS = 1
"""Smallest timeout this SDK accepts. Render itself rejects timeouts below 30 seconds; shorter
ones are for the local engine, so tests can exercise timeouts quickly."""

RENDER_MIN_TIMEOUT_SECONDS = 30
MAX_TIMEOUT_SECONDS = 86400


@dataclass(frozen=True)
class Retry:
    """How often a failed attempt is retried, and how long to wait in between.

    ``max_retries`` retries follow the first attempt. The first retry waits ``wait_duration_ms``;
    each later wait is the previous one times ``backoff_scaling``.

        @app.task(retry=Retry(max_retries=3, wait_duration_ms=500))
        def fetch(url: str) -> str: ...

    Values are checked when a task (or an app default) uses them.
    """

    max_retries: int
    wait_duration_ms: int
    backoff_scaling: float = 1.5

    def problems(self) -> list[str]:
        """The reasons these values are invalid (an empty list when they are fine).

        >>> Retry(-1, 100).problems()
        ['max_retries must be an integer >= 0, got -1']
        """
        found = []
        if not _is_int(self.max_retries) or self.max_retries < 0:
            found.append(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        if not _is_int(self.wait_duration_ms) or self.wait_duration_ms < 0:
            found.append(f"wait_duration_ms must be an integer >= 0, got {self.wait_duration_ms!r}")
        if (
            not isinstance(self.backoff_scaling, (int, float))
            or isinstance(self.backoff_scaling, bool)
            or not self.backoff_scaling >= 1
            or self.backoff_scaling == float("inf")
        ):
            found.append(
                f"backoff_scaling must be a finite number >= 1, got {self.backoff_scaling!r}"
            )
        return found

    def to_wire(self) -> dict[str, Any]:
        """The callback API's form: ``{"max_retries", "wait_duration_ms", "factor"}``.

        >>> Retry(2, 100).to_wire()
        {'max_retries': 2, 'wait_duration_ms': 100, 'factor': 1.5}
        """
        return {
            "max_retries": self.max_retries,
            "wait_duration_ms": self.wait_duration_ms,
            "factor": float(self.backoff_scaling),
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_retry(retry: object, where: str) -> Retry | None:
    """Return ``retry`` when it is None or a valid :class:`Retry`; raise InvalidTaskOptions."""
    if retry is None:
        return None
    if not isinstance(retry, Retry):
        raise InvalidTaskOptions(
            f"{where}: retry must be a render_sdk.Retry, got {type(retry).__name__}"
        )
    problems = retry.problems()
    if problems:
        raise InvalidTaskOptions(f"{where}: invalid retry: " + "; ".join(problems))
    return retry


def check_timeout(timeout: object, where: str) -> int | None:
    """Return ``timeout`` when it is None or whole seconds in 1..86400; raise InvalidTaskOptions."""
    if timeout is None:
        return None
    if not _is_int(timeout) or not (
        MIN_TIMEOUT_SECONDS <= timeout <= MAX_TIMEOUT_SECONDS  # type: ignore[operator]
    ):
        raise InvalidTaskOptions(
            f"{where}: timeout must be whole seconds between {MIN_TIMEOUT_SECONDS} and "
            f"{MAX_TIMEOUT_SECONDS}, got {timeout!r} (Render accepts "
            f"{RENDER_MIN_TIMEOUT_SECONDS}..{MAX_TIMEOUT_SECONDS}; shorter timeouts work only "
            "on the local engine)"
        )
    return timeout  # type: ignore[return-value]


def check_plan(plan: object, where: str) -> str | None:
    """Return ``plan`` when it is None or a known plan name; raise InvalidTaskOptions."""
    if plan is None:
        return None
    if plan not in PLANS:
        raise InvalidTaskOptions(
            f"{where}: unknown plan {plan!r}; expected one of {', '.join(PLANS)}"
        )
    return plan


@dataclass(frozen=True)
class TaskOptions:
    """The options a task registers with (app defaults already applied)."""

    retry: Retry | None = None
    timeout_seconds: int | None = None
    plan: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The callback API's ``options`` object; options left unset are omitted."""
        wire: dict[str, Any] = {}
        if self.retry is not None:
            wire["retry"] = self.retry.to_wire()
        if self.timeout_seconds is not None:
            wire["timeout_seconds"] = self.timeout_seconds
        if self.plan is not None:
            wire["plan"] = self.plan
        return wire
