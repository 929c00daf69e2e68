"""Interleaved rounds: each benchmark runs in slices, alternating between the systems.

On a shared or noisy machine the load drifts over minutes. Running B1 on one system for a minute
and then on the next would charge that drift to one of them; alternating slices (with the order
rotated each round) spreads it evenly, so the ratios taken from one invocation stay fair.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench._results import Result
from bench._stats import latency_summary

# Metrics that are "per run": combined across rounds as a mean weighted by each round's count.
PER_RUN = (
    "engine_cpu_ms_per_run",
    "engine_sys_cpu_ms_per_run",
    "workers_cpu_ms_per_run",
    "started_to_completed_p50_ms",  # a median per round; pooled as a weighted mean
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
