"""Identifiers the engine hands out: run ids, task ids, node ids and attempt tokens."""

from __future__ import annotations

import hashlib
import os
import threading

_POOL_BYTES = 4096
_pool = b""
_used = 0
_pool_lock = threading.Lock()


def _random_hex(nbytes: int) -> str:
    """``nbytes`` bytes from the OS's random source, as hex. The bytes are read a few KiB at a
    time: one system call per few hundred ids rather than one per id."""
    global _pool, _used
    with _pool_lock:
        if _used + nbytes > len(_pool):
            _pool, _used = os.urandom(_POOL_BYTES), 0
        start, _used = _used, _used + nbytes
        return _pool[start:_used].hex()


def _forget_pool() -> None:
    global _pool, _used
    _pool, _used = b"", 0


# A forked child must not hand out the ids its parent will.
os.register_at_fork(after_in_child=_forget_pool)


def new_run_id() -> str:
    """A fresh, unguessable run id.

    >>> new_run_id().startswith("trn-")
    True
    """
    return "trn-" + _random_hex(10)


def task_id_for(name: str) -> str:
    """The id of the task called ``name``: stable across restarts and engines.

    >>> task_id_for("square") == task_id_for("square")
    True
    """
    return "tsk-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:20]


def new_node_id() -> str:
    """A fresh id of one engine node (one start of an engine), kept as the owner of its runs.

    >>> new_node_id().startswith("nod-")
    True
    """
    return "nod-" + _random_hex(6)


def new_attempt_token() -> str:
    """An opaque id of one attempt, sent to serve-mode workers as ``attempt_id``.

    >>> len(new_attempt_token()) > 10
    True
    """
    return _random_hex(8)
