"""When this process began importing the SDK, finished, and started its worker.

A worker reports these on its first ``GET /input`` as query parameters in nanoseconds since the
Unix epoch (``sdk_import_started_at``, ``sdk_import_finished_at``, ``sdk_started_at``), as Render's
1.x SDK does; the local engine keeps them with the attempt (docs/protocol-extensions.md,
section 5). Imported first by ``render_sdk/__init__.py``; standard library only.
"""

from __future__ import annotations

import time

import_started_ns: int = time.time_ns()
import_finished_ns: int | None = None
sdk_started_ns: int | None = None
_reported = False


def mark_import_finished() -> None:
    """Note the end of the SDK's import (the first call counts)."""
    global import_finished_ns
    if import_finished_ns is None:
        import_finished_ns = time.time_ns()


def mark_sdk_started() -> None:
    """Note that the worker started (the first call counts)."""
    global sdk_started_ns
    if sdk_started_ns is None:
        sdk_started_ns = time.time_ns()


def input_query() -> str:
    """``?sdk_import_started_at=...&...`` the first time, ``""`` afterwards: only the first
    attempt of a process paid for its start-up."""
    global _reported
    if _reported:
        return ""
    _reported = True
    pairs = (
        ("sdk_import_started_at", import_started_ns),
        ("sdk_import_finished_at", import_finished_ns),
        ("sdk_started_at", sdk_started_ns),
    )
    return "?" + "&".join(f"{name}={value}" for name, value in pairs if value)
