"""Interleaved rounds: each benchmark runs in slices, alternating between the systems.

On a shared or noisy machine the load drifts over minutes. Running B1 on one system for a minute
and then on the next would charge that drift to one of them; alternating slices (with the order
rotated each round) spreads it evenly, so the ratios taken from one invocation stay fair. Before
each slice the runner waits for the machine to be quiet (:func:`settle`), so that what one
system leaves running (process-per-run workers exiting, a queue draining) does not land in the
next system's slice.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

from bench._results import Result
from bench._stats import latency_summary

# Metrics that are "per run": combined across rounds as a mean weighted by each round's count.
PER_RUN = (
    "engine_cpu_ms_per_run",
    "engine_sys_cpu_ms_per_run",
    "workers_cpu_ms_per_run",
    "started_to_completed_p50_ms",  # a median per round; pooled as a weighted mean
    "db_commits_per_run",
    "db_wal_flushes_per_run",
    "db_server_cpu_ms_per_run",
)


def share(total: int, rounds: int, index: int) -> int:
    """How many of ``total`` samples round ``index`` (0-based) of ``rounds`` takes.

    >>> [share(10, 3, i) for i in range(3)], [share(2, 5, i) for i in range(5)]
    ([4, 3, 3], [1, 1, 0, 0, 0])
    """
    base, extra = divmod(total, rounds)
    return base + (1 if index < extra else 0)


def rotated(items: Sequence[str], index: int) -> list[str]:
    """``items`` rotated left by ``index``: round r starts with a different system.

    >>> rotated(["a", "b", "c"], 1)
    ['b', 'c', 'a']
    """
    if not items:
        return []
    k = index % len(items)
    return [*items[k:], *items[:k]]


def cpu_busy(read_stat: Callable[[], str] | None = None, window: float = 0.2) -> float:
    """The fraction of all CPUs' time spent busy over ``window`` seconds (Linux ``/proc/stat``).

    >>> lines = iter(["cpu  100 0 100 800 0 0 0 0 0 0", "cpu  150 0 150 900 0 0 0 0 0 0"])
    >>> cpu_busy(lambda: next(lines), window=0)
    0.5
    """
    read = read_stat or _read_proc_stat
    first = _busy_and_total(read())
    time.sleep(window)
    second = _busy_and_total(read())
    total = second[1] - first[1]
    return (second[0] - first[0]) / total if total > 0 else 0.0


def _read_proc_stat() -> str:
    with open("/proc/stat") as stat:
        return stat.readline()


def _busy_and_total(line: str) -> tuple[int, int]:
    values = [int(v) for v in line.split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def settle(threshold: float = 0.15, timeout: float = 5.0) -> float:
    """Wait until the machine is quiet (CPUs less than ``threshold`` busy) or ``timeout``
    passes, so that one system's leftovers (workers exiting, a queue draining) do not land in
    the next system's slice. Returns the seconds waited; without ``/proc/stat``, returns 0."""
    start = time.monotonic()
    try:
        while cpu_busy() >= threshold and time.monotonic() - start < timeout:
            pass
    except OSError:
        return 0.0
    return time.monotonic() - start


def _weighted(parts: Sequence[Result], metric: str, weight: str) -> float | None:
    pairs = [(p.metrics[metric], p.metrics.get(weight, 0.0)) for p in parts if metric in p.metrics]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    return sum(v * w for v, w in pairs) / total


def merge_latency(parts: Sequence[Result], rounds_note: str) -> Result:
    """One result from the rounds of a latency benchmark: every sample pooled."""
    first = parts[0]
    samples = [s for p in parts for s in p.samples_ms]
    metrics = latency_summary([s / 1000.0 for s in samples])
    for metric in PER_RUN:
        value = _weighted(parts, metric, "n")
        if value is not None:
            metrics[metric] = value
    return Result(
        first.bench,
        first.system,
        metrics,
        note=f"{first.note}; {len(samples)} samples, {rounds_note}",
        samples_ms=samples,
        rounds=[p.metrics for p in parts],
    )


def merge_throughput(parts: Sequence[Result], rounds_note: str) -> Result:
    """One result from the rounds of a throughput benchmark: the median round's rate."""
    first = parts[0]
    rates = [p.metrics["runs_per_s"] for p in parts]
    metrics: dict[str, float] = {
        "runs_per_s": statistics.median(rates),
        "runs_per_s_min": min(rates),
        "runs_per_s_max": max(rates),
        "n": sum(p.metrics["n"] for p in parts),
        "rounds": float(len(parts)),
    }
    for metric in PER_RUN:
        value = _weighted(parts, metric, "n")
        if value is not None:
            metrics[metric] = value
    if "engine_rss_mb" in parts[-1].metrics:
        metrics["engine_rss_mb"] = parts[-1].metrics["engine_rss_mb"]
    return Result(
        first.bench,
        first.system,
        metrics,
        note=f"{first.note}; the median round, {rounds_note}",
        rounds=[p.metrics for p in parts],
    )
