"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

SUCCESS = {"completed", "succeeded"}


def status_of(run: Any) -> str:
    """A run's status as a plain string, whatever enum the client uses."""
    status = run.status
    return str(getattr(status, "value", status))
