"""The runner's arithmetic and table: percentiles, ratios, targets, profile summaries."""

from __future__ import annotations

import pytest

from bench._profile import summarize
from bench._report import (
    ratio,
    render_floor,
    render_notes,
    render_postgres_targets,
    render_table,
)
from bench._results import Result, Results
from bench._stats import latency_summary, percentile


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("q", [-1, 101])
def test_percentile_rejects_out_of_range_q(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)


def test_latency_summary_is_in_milliseconds() -> None:
    summary = latency_summary([0.001, 0.002, 0.010])
    assert summary["n"] == 3
    assert summary["p50_ms"] == pytest.approx(2.0)
    assert summary["max_ms"] == pytest.approx(10.0)


def test_ratio_says_how_many_times_better() -> None:
    assert ratio(1.0, 3.0, higher_is_better=False) == 3.0
    assert ratio(900.0, 300.0, higher_is_better=True) == 3.0
    assert ratio(None, 3.0, higher_is_better=True) is None
    assert ratio(0.0, 3.0, higher_is_better=True) is None


def _results() -> Results:
    results = Results()
    results.add(Result("B1", "fast", {"p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0}))
    results.add(Result("B1", "celery", {"p50_ms": 2.5, "p90_ms": 3.0, "p99_ms": 4.0}))
    results.add(Result("B1", "process", not_measured="the engine exited with status 2"))
    results.add(Result("B2", "fast", {"runs_per_s": 600.0}))
    results.add(Result("B2", "celery", {"runs_per_s": 400.0}, note="join_native"))
    return results


def test_table_quotes_ratios_and_targets() -> None:
    table = render_table(_results())
    b1 = next(line for line in table.splitlines() if "p50" in line and "B1" in line)
    assert "x2.50" in b1  # fast vs Celery: 2.5 ms / 1.0 ms
    assert "met" in b1 and "below Celery" in b1
    assert "not measured" in b1
    b2 = next(line for line in table.splitlines() if "B2 concurrent" in line)
    assert "x1.50" in b2
    assert "missed: 1.50x Celery, target 2x (800 runs/s)" in b2
    assert "B3" not in table  # nothing measured there, no row


def test_b1_target_is_missed_when_not_below_celery() -> None:
    results = Results()
    results.add(Result("B1", "fast", {"p50_ms": 2.0}))
    results.add(Result("B1", "celery", {"p50_ms": 1.5}))
    line = next(x for x in render_table(results).splitlines() if "p50" in x)
    assert "missed: not below Celery's 1.50 ms" in line


def test_notes_say_why_something_was_not_measured() -> None:
    notes = render_notes(_results())
    assert "B1 / engine, process per run: not measured: the engine exited with status 2" in notes
    assert "B2 / Celery + Redis: join_native" in notes


def test_floor_table_only_when_measured() -> None:
    results = Results()
    assert render_floor(results) == ""
    results.add(
        Result(
            "F",
            "floor",
            {
                "fork_cpu_ms": 4.5,
                "fork_wall_ms": 5.0,
                "reused_cpu_ms": 0.02,
                "reused_wall_ms": 0.03,
            },
        )
    )
    assert "| fork per run: CPU per run (parent + child) | 4.50 |" in render_floor(results)


def test_profile_summary_splits_engine_and_workers() -> None:
    raw = "\n".join(
        [
            'process 10:"python -m render_sdk.cli dev";handle (a.py:1);hot (a.py:5) 6',
            'process 10:"python -m render_sdk.cli dev";handle (a.py:1) 2',
            'process 10:"python -m render_sdk.cli dev";process 11:"python worker";run (w.py:3) 4',
            "garbage line without a count",
        ]
    )
    summary = summarize(raw)
    assert summary["engine"]["samples"] == 8
    assert summary["engine"]["self"][0] == ["hot (a.py:5)", 6, 75.0]
    assert summary["engine"]["inclusive"][0] == ["handle (a.py:1)", 8, 100.0]
    assert summary["workers"]["samples"] == 4
    assert summary["workers"]["self"] == [["run (w.py:3)", 4, 100.0]]


def test_profile_inclusive_ranking_skips_frames_every_stack_has() -> None:
    raw = "_run_module_as_main (<frozen runpy>:198);main (cli.py:3);work (a.py:9) 5"
    summary = summarize(raw)
    assert summary["engine"]["inclusive"] == [["work (a.py:9)", 5, 100.0]]


def test_rounds_split_totals_and_rotate_the_order() -> None:
    from bench._rounds import rotated, share

    assert [share(1000, 5, i) for i in range(5)] == [200] * 5
    assert sum(share(7, 3, i) for i in range(3)) == 7
    assert [rotated(["fast", "process", "celery"], i)[0] for i in range(4)] == [
        "fast",
        "process",
        "celery",
        "fast",
    ]


def test_merged_latency_pools_samples_and_weights_cpu() -> None:
    from bench._rounds import merge_latency

    a = Result("B1", "fast", {"n": 2, "engine_cpu_ms_per_run": 1.0}, samples_ms=[1.0, 2.0])
    b = Result("B1", "fast", {"n": 6, "engine_cpu_ms_per_run": 3.0}, samples_ms=[3.0] * 6)
    merged = merge_latency([a, b], "2 rounds")
    assert merged.metrics["n"] == 8
    assert merged.metrics["p50_ms"] == 3.0
    assert merged.metrics["engine_cpu_ms_per_run"] == pytest.approx(2.5)
    assert merged.rounds == [a.metrics, b.metrics]
    assert "8 samples, 2 rounds" in merged.note


def test_merged_throughput_is_the_median_round() -> None:
    from bench._rounds import merge_throughput

    parts = [Result("B2", "celery", {"n": 10, "runs_per_s": r}) for r in (300.0, 500.0, 400.0)]
    merged = merge_throughput(parts, "3 rounds")
    assert merged.metrics["runs_per_s"] == 400.0
    assert (merged.metrics["runs_per_s_min"], merged.metrics["runs_per_s_max"]) == (300.0, 500.0)
    assert merged.metrics["n"] == 30


def test_cpu_busy_and_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import _rounds

    lines = iter(["cpu  100 0 100 800 0 0 0 0 0 0", "cpu  150 0 150 900 0 0 0 0 0 0"])
    assert _rounds.cpu_busy(lambda: next(lines), window=0) == 0.5
    busy = iter([0.9, 0.9, 0.1])
    monkeypatch.setattr(_rounds, "cpu_busy", lambda: next(busy))
    _rounds.settle(threshold=0.15, timeout=5)
    assert list(busy) == []  # waited while busy, stopped once quiet
    monkeypatch.setattr(_rounds, "cpu_busy", lambda: 1.0)
    assert _rounds.settle(threshold=0.15, timeout=0.05) >= 0.05  # gives up after the timeout


def test_the_blocking_clients_b1_is_checked_against_the_async_one_and_celery() -> None:
    def b1_line(blocking: float, celery: float = 2.5) -> str:
        results = Results()
        results.add(Result("B1", "fast", {"p50_ms": 2.0}))
        results.add(Result("B1", "blocking", {"p50_ms": blocking}))
        results.add(Result("B1", "celery", {"p50_ms": celery}))
        table = render_table(results)
        return next(line for line in table.splitlines() if "B1 no-op run_task, p50" in line)

    assert "blocking client met (1.05x the async client's)" in b1_line(2.1)
    assert "blocking client missed: 1.20x the async client's p50" in b1_line(2.4)
    # within 10 % of the async client but not below Celery
    assert "blocking client missed: 1.05x the async client's p50, 1.02x Celery's" in b1_line(
        2.1, celery=2.05
    )
    assert "| 2.00 | 2.40 |" in b1_line(2.4)  # the fast path's and the blocking client's cells


def test_the_postgres_engine_is_checked_against_dbos_celery_and_the_sqlite_engine() -> None:
    results = Results()
    results.add(Result("B2", "postgres", {"runs_per_s": 900.0}))
    results.add(Result("B2", "dbos", {"runs_per_s": 250.0}))
    results.add(Result("B2", "celery", {"runs_per_s": 1000.0}))
    results.add(Result("B1", "postgres", {"p50_ms": 4.0}))
    results.add(Result("B1", "fast", {"p50_ms": 2.5}))
    results.add(Result("B4", "postgres", {"p50_ms": 300.0}))
    lines = render_postgres_targets(results).splitlines()
    assert lines == [
        "Targets of the engine on PostgreSQL:",
        "- B2 >= 3x DBOS queue on PostgreSQL: met (900 runs/s against 250, x3.60)",
        "- B2 >= 1x Celery + Redis: missed (900 runs/s against 1000, x0.90)",
        "- B1 p50 <= 2x the SQLite engine's: met (4.00 ms against 2.50 ms, x1.60)",
        "- B4 p50 <= 250 ms: missed (300 ms)",
    ]
    assert render_postgres_targets(Results()) == ""  # nothing on PostgreSQL measured
