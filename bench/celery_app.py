"""The Celery counterpart of bench/app.py, for the Celery + Redis baseline.

The broker and result backend come from ``BENCH_CELERY_BROKER`` and ``BENCH_CELERY_BACKEND``
(``redis://127.0.0.1:PORT/0`` and ``/1``), set by bench/_celery.py.

    celery -A bench.celery_app worker --pool prefork --concurrency 2
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, group  # type: ignore[import-untyped, unused-ignore]

celery = Celery(
    "bench",
    broker=os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("BENCH_CELERY_BACKEND", "redis://127.0.0.1:6379/1"),
)
celery.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
)


@celery.task(name="bench.noop")  # type: ignore[untyped-decorator, misc, unused-ignore]
def noop() -> None:
    """Do nothing."""
    return None


@celery.task(name="bench.parent_one")  # type: ignore[untyped-decorator, misc, unused-ignore]
def parent_one() -> None:
    """Start one no-op task and block on its result (Celery's allow-join pattern)."""
    noop.delay().get(disable_sync_subtasks=False, timeout=60)


@celery.task(name="bench.fan_out")  # type: ignore[untyped-decorator, misc, unused-ignore]
def fan_out(n: int) -> int:
    """Start ``n`` no-op tasks as a group and block on all their results (allow-join pattern)."""
    results: list[Any] = (
        group(noop.s() for _ in range(n))
        .apply_async()
        .get(disable_sync_subtasks=False, timeout=120)
    )
    return len(results)


@celery.task(name="bench.count")  # type: ignore[untyped-decorator, misc, unused-ignore]
def count(results: list[Any]) -> int:
    """Chord callback: how many header tasks finished."""
    return len(results)
