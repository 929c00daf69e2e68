"""Memory limits of worker processes, from the task's compute plan.

A task's ``plan`` names a size on Render (``starter`` 512 MB, ``standard`` 2 GB, the default,
``pro`` 4 GB, ...). The engine applies that size to the worker process running the attempt as
its ``RLIMIT_DATA`` soft limit (heap and private anonymous memory, Linux >= 4.7 counts ``mmap``
too; shared libraries and thread stacks are not counted). An allocation past the limit fails in the
worker: Python raises ``MemoryError``, so the attempt fails, and the retry policy applies. The
limit is set from outside with ``prlimit(2)`` before the attempt's input is handed out; a reused
process gets the limit of each attempt's plan in turn. Where ``prlimit`` is not available (not
Linux) no limit is applied.
"""

from __future__ import annotations

import logging

_log = logging.getLogger("render_sdk.engine.workers")

_MB = 1024 * 1024
PLAN_MEMORY_MB: dict[str, int] = {
    "starter": 512,
    "standard": 2048,
    "pro": 4096,
    "pro_plus": 8192,
    "pro_max": 16384,
    "pro_ultra": 32768,
}
DEFAULT_PLAN = "standard"


def plan_memory_mb(plan: str | None) -> int:
    """The memory size of ``plan`` in MiB (``standard`` when None or unknown).

    >>> plan_memory_mb("starter"), plan_memory_mb(None)
    (512, 2048)
    """
    return PLAN_MEMORY_MB.get(plan or DEFAULT_PLAN, PLAN_MEMORY_MB[DEFAULT_PLAN])


def apply_memory_limit(pid: int, plan: str | None) -> bool:
    """Set the ``RLIMIT_DATA`` soft limit of process ``pid`` to ``plan``'s size.

    The hard limit is left as it is (the soft limit never exceeds it), so a later attempt with a
    larger plan can raise the soft limit again. Returns False when no limit could be applied.

    >>> apply_memory_limit(worker_pid, "pro")  # doctest: +SKIP
    True
    """
    try:
        import resource

        prlimit = resource.prlimit
    except (ImportError, AttributeError):
        return False
    wanted = plan_memory_mb(plan) * _MB
    try:
        _soft, hard = prlimit(pid, resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        prlimit(pid, resource.RLIMIT_DATA, (wanted, hard))
    except (OSError, ValueError) as exc:
        _log.warning("cannot limit the memory of worker pid %d: %s", pid, exc)
        return False
    return True


def explain_memory_error(error: str, plan: str | None) -> str:
    """``error`` with the plan's memory limit named, when the task ran out of memory.

    >>> explain_memory_error("MemoryError", "starter")
    "MemoryError (the task's plan 'starter' limits its worker process to 512 MB of memory)"
    """
    if error.split(":", 1)[0].strip() != "MemoryError":
        return error
    name = plan or DEFAULT_PLAN
    return (
        f"{error} (the task's plan {name!r} limits its worker process to "
        f"{plan_memory_mb(plan)} MB of memory)"
    )
