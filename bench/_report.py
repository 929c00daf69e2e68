"""The table of a benchmark run: figures side by side, ratios pair by pair, targets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bench._results import SYSTEMS, Results


@dataclass(frozen=True)
class Row:
    """One line of the table: a metric of one benchmark."""

    bench: str
    metric: str
    label: str
    unit: str
    higher_is_better: bool = False
    # Target check: the row's value per system (None where not measured) -> (met, explanation).
    # Checked when the fast path was measured.
    target: Callable[[Mapping[str, float | None]], tuple[bool, str]] | None = None


Target = Callable[[Mapping[str, float | None]], tuple[bool, str]]


def _at_most(limit: float, unit: str) -> Target:
    def check(values: Mapping[str, float | None]) -> tuple[bool, str]:
        value = values["fast"] or 0.0
        if value <= limit:
            return True, f"met (<= {limit:g} {unit})"
        return False, f"missed: {value / limit:.2f}x the {limit:g} {unit} limit"

    return check


def _b1_target(values: Mapping[str, float | None]) -> tuple[bool, str]:
    """The fast path's B1 p50 at most 3 ms and below Celery's; the blocking client's B1 p50
    within 10 % of the async client's and below Celery's."""
    value, celery, blocking = values["fast"] or 0.0, values.get("celery"), values.get("blocking")
    met, text = _at_most(3.0, "ms")(values)
    if celery is None:
        return met, text + "; Celery not measured"
    if value >= celery:
        text = f"missed: not below Celery's {celery:.2f} ms" + ("" if met else f"; {text}")
        met = False
    else:
        text += f", below Celery's {celery:.2f} ms"
    if blocking is None:
        return met, text + "; blocking client not measured"
    if blocking > value * 1.1 or blocking >= celery:
        return False, text + (
            f"; blocking client missed: {blocking / value:.2f}x the async client's p50, "
            f"{blocking / celery:.2f}x Celery's (target <= 1.10x and < 1x)"
        )
    return met, text + f"; blocking client met ({blocking / value:.2f}x the async client's)"


def _b2_target(values: Mapping[str, float | None]) -> tuple[bool, str]:
    value, celery = values["fast"] or 0.0, values.get("celery")
    if celery is None:
        ok = value >= 800
        return ok, ("met" if ok else "missed") + " (>= 800 runs/s; Celery not measured)"
    need = 2 * celery
    if value >= need:
        return True, f"met (>= 2x Celery = {need:.0f} runs/s)"
    return False, f"missed: {value / celery:.2f}x Celery, target 2x ({need:.0f} runs/s)"


ROWS: tuple[Row, ...] = (
    Row("B1", "p50_ms", "B1 no-op run_task, p50", "ms", target=_b1_target),
    Row("B1", "p90_ms", "B1 no-op run_task, p90", "ms"),
    Row("B1", "p99_ms", "B1 no-op run_task, p99", "ms"),
    Row("B1", "started_to_completed_p50_ms", "B1 of which startedAt -> completedAt, p50", "ms"),
    Row("B1rest", "p50_ms", "B1' get_task_run round trip (REST only), p50", "ms"),
    Row("B1", "engine_cpu_ms_per_run", "B1 engine (Celery: Redis + consumer) CPU per run", "ms"),
    Row("B1", "engine_sys_cpu_ms_per_run", "B1 engine CPU per run, in the kernel", "ms"),
    Row("B1", "workers_cpu_ms_per_run", "B1 worker processes CPU per run", "ms"),
    Row("B2", "runs_per_s", "B2 concurrent no-op runs", "runs/s", True, _b2_target),
    Row("B2", "engine_cpu_ms_per_run", "B2 engine (Celery: Redis + consumer) CPU per run", "ms"),
    Row("B2", "engine_sys_cpu_ms_per_run", "B2 engine CPU per run, in the kernel", "ms"),
    Row("B2", "workers_cpu_ms_per_run", "B2 worker processes CPU per run", "ms"),
    Row("B2", "db_commits_per_run", "B2 PostgreSQL: transactions committed per run", "commits"),
    Row("B2", "db_wal_flushes_per_run", "B2 PostgreSQL: WAL flushes (fsync) per run", "flushes"),
    Row("B2", "db_server_cpu_ms_per_run", "B2 PostgreSQL: server CPU per run", "ms"),
    Row("B3", "p50_ms", "B3 parent awaiting 1 child, p50", "ms", target=_at_most(10, "ms")),
    Row("B4", "p50_ms", "B4 parent gathering 100 children", "ms", target=_at_most(250, "ms")),
    Row("B4chord", "p50_ms", "B4' 100 children + chord callback", "ms"),
    Row("B5", "first_page_ms", "B5 first page (100) of 100k runs", "ms", target=_at_most(20, "ms")),
    Row("B5", "deep_page_ms", "B5 page deep in the cursor chain", "ms", target=_at_most(20, "ms")),
    Row("B5", "filtered_page_ms", "B5 inspector page of failed runs (1 in 100)", "ms"),
    Row("B5", "filtered_deep_page_ms", "B5 the 10th such page", "ms"),
    Row("B5", "engine_rss_mb", "B5 engine RSS with 100k runs", "MiB", target=_at_most(150, "MiB")),
    Row(
        "UI",
        "p50_ms",
        "UI a started run's row on the open / page, p50",
        "ms",
        target=_at_most(1000, "ms"),
    ),
    Row("UI", "max_ms", "UI the same, slowest", "ms", target=_at_most(1000, "ms")),
    Row(
        "C1",
        "start_cpu_ms",
        "C1 client CPU per start, 64 in flight",
        "ms",
        target=_at_most(0.5, "ms"),
    ),
    Row(
        "C1",
        "run_cpu_ms",
        "C1 client CPU per run_task, 64 in flight",
        "ms",
        target=_at_most(0.5, "ms"),
    ),
)

PAIRS: tuple[tuple[str, str], ...] = (
    ("fast", "celery"),
    ("blocking", "fast"),
    ("blocking", "celery"),
    ("fast", "nofsync"),
    ("fast", "process"),
    ("process", "celery"),
    ("postgres", "fast"),
    ("postgres", "celery"),
    ("postgres", "dbos"),
    ("postgres2", "postgres"),
)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(a: float | None, b: float | None, higher_is_better: bool) -> float | None:
    """How many times better ``a`` is than ``b`` (> 1: ``a`` is better).

    >>> ratio(2.0, 4.0, higher_is_better=False)
    2.0
    """
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return a / b if higher_is_better else b / a


def _cell(results: Results, row: Row, system: str) -> tuple[str, float | None]:
    result = results.get(row.bench, system)
    if result is None:
        return "", None
    if result.not_measured is not None:
        return "not measured", None
    value = result.value(row.metric)
    return _fmt(value), value


def render_table(results: Results) -> str:
    """A Markdown table of every measured row; ``x2.0`` in a ratio column means twice as good."""
    header = ["benchmark", "unit", *SYSTEMS.values()]
    header += [f"{a} vs {b}" for a, b in PAIRS] + ["target (fast path)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in ROWS:
        cells: dict[str, tuple[str, float | None]] = {s: _cell(results, row, s) for s in SYSTEMS}
        if all(text == "" for text, _ in cells.values()):
            continue
        line = [row.label, row.unit, *(cells[s][0] for s in SYSTEMS)]
        for a, b in PAIRS:
            r = ratio(cells[a][1], cells[b][1], row.higher_is_better)
            line.append("" if r is None else f"x{r:.2f}")
        if row.target is not None and cells["fast"][1] is not None:
            line.append(row.target({s: value for s, (_, value) in cells.items()})[1])
        else:
            line.append("")
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def render_notes(results: Results) -> str:
    """Why something was not measured, and how each benchmark was run, one line each."""
    lines: list[str] = []
    for item in results.items:
        if item.not_measured is not None:
            lines.append(
                f"- {item.bench} / {SYSTEMS.get(item.system, item.system)}: "
                f"not measured: {item.not_measured}"
            )
        elif item.note:
            lines.append(f"- {item.bench} / {SYSTEMS.get(item.system, item.system)}: {item.note}")
    return "\n".join(lines)


FLOOR_ROWS: tuple[tuple[str, str], ...] = (
    ("fork_cpu_ms", "fork per run: CPU per run (parent + child)"),
    ("fork_wall_ms", "fork per run: wall time per run"),
    ("reused_cpu_ms", "reused process: CPU per hand-off"),
    ("reused_wall_ms", "reused process: wall time per hand-off"),
    ("sqlite_commit_full_ms", "SQLite WAL commit, synchronous=FULL (fsync)"),
    ("sqlite_commit_normal_ms", "SQLite WAL commit, synchronous=NORMAL"),
)


def render_floor(results: Results) -> str:
    """The process floor (fork per run vs a reused process) as a small Markdown table."""
    floor = results.get("F", "floor")
    if floor is None or floor.not_measured is not None:
        return ""
    lines = ["| floor | ms |", "|---|---|"]
    for metric, label in FLOOR_ROWS:
        lines.append(f"| {label} | {_fmt(floor.value(metric))} |")
    return "\n".join(lines)


def render_postgres_targets(results: Results) -> str:
    """The engine on PostgreSQL against its targets (docs/benchmarks.md): B2 at least 3x DBOS's
    rate and at least Celery's, B1 p50 at most twice the SQLite engine's, B4 at most 250 ms."""

    def value(bench: str, system: str, metric: str) -> float | None:
        item = results.get(bench, system)
        return None if item is None or item.not_measured else item.metrics.get(metric)

    lines: list[str] = []
    b2 = value("B2", "postgres", "runs_per_s")
    if b2 is not None:
        for system, factor in (("dbos", 3.0), ("celery", 1.0)):
            other = value("B2", system, "runs_per_s")
            if other is None:
                lines.append(f"- B2 >= {factor:g}x {SYSTEMS[system]}: not measured beside it")
                continue
            verdict = "met" if b2 >= factor * other else "missed"
            lines.append(
                f"- B2 >= {factor:g}x {SYSTEMS[system]}: {verdict} "
                f"({b2:.0f} runs/s against {other:.0f}, x{b2 / other:.2f})"
            )
    b1, fast = value("B1", "postgres", "p50_ms"), value("B1", "fast", "p50_ms")
    if b1 is not None and fast is not None:
        verdict = "met" if b1 <= 2 * fast else "missed"
        lines.append(
            f"- B1 p50 <= 2x the SQLite engine's: {verdict} ({b1:.2f} ms against {fast:.2f} ms, "
            f"x{b1 / fast:.2f})"
        )
    b4 = value("B4", "postgres", "p50_ms")
    if b4 is not None:
        lines.append(f"- B4 p50 <= 250 ms: {'met' if b4 <= 250 else 'missed'} ({b4:.0f} ms)")
    return "\n".join(["Targets of the engine on PostgreSQL:", *lines]) if lines else ""
