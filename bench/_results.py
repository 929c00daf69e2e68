"""The figures a benchmark run produces, and the systems they compare."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SYSTEMS: dict[str, str] = {
    "fast": "engine, fast path",
    "blocking": "fast path, blocking client",
    "nofsync": "fast path, --no-fsync",
    "process": "engine, process per run",
    "celery": "Celery + Redis",
    "postgres": "engine on PostgreSQL, one node",
    "postgres2": "engine on PostgreSQL, two nodes",
    "dbos": "DBOS queue on PostgreSQL",
}


@dataclass
class Result:
    """One benchmark on one system: its figures, or why it was not measured.

    >>> Result("B1", "fast", {"p50_ms": 1.2}).value("p50_ms")
    1.2
    """

    bench: str
    system: str
    metrics: dict[str, float] = field(default_factory=dict)
    not_measured: str | None = None
    note: str = ""
    samples_ms: list[float] = field(default_factory=list)
    rounds: list[dict[str, float]] = field(default_factory=list)  # each round's own figures

    def value(self, metric: str) -> float | None:
        if self.not_measured is not None:
            return None
        return self.metrics.get(metric)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Results:
    """All results of one invocation, looked up by benchmark and system."""

    def __init__(self) -> None:
        self.items: list[Result] = []

    def add(self, result: Result) -> Result:
        self.items.append(result)
        return result

    def get(self, bench: str, system: str) -> Result | None:
        for item in reversed(self.items):
            if item.bench == bench and item.system == system:
                return item
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [item.to_json() for item in self.items]
