"""Identifiers the engine hands out: run ids, task ids and attempt tokens."""

from __future__ import annotations

import hashlib
import secrets


def new_run_id() -> str:
    """A fresh, unguessable run id.

    >>> new_run_id().startswith("trn-")
    True
    """
    return "trn-" + secrets.token_hex(10)


def task_id_for(name: str) -> str:
    """The id of the task called ``name``: stable across restarts and engines.

    >>> task_id_for("square") == task_id_for("square")
    True
    """
    return "tsk-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:20]


def new_attempt_token() -> str:
    """An opaque id of one attempt, sent to serve-mode workers as ``attempt_id``.

    >>> len(new_attempt_token()) > 10
    True
    """
    return secrets.token_hex(8)
