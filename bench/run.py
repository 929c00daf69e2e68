"""Benchmarks of the local engine side by side with Celery + Redis; prints a table, writes JSON.

    python bench/run.py                      # everything (3-6 minutes on 2 cores)
    python bench/run.py --quick              # smaller samples (under 3 minutes)
    python bench/run.py --only B1,B2 --systems fast,celery --json out.json
    python bench/run.py --profile            # also py-spy profiles of the engine during B1, B2, B4

Benchmarks: B1 no-op latency, B2 concurrent throughput, B3 parent + 1 child, B4 fan-out of 100,
B5 listing 100,000 stored runs, C1 client CPU per call, F the process and fsync floor, UI how
soon a started run shows on the run inspector's page in chromium. Systems:
``fast`` (``render-workflows dev bench.app:app``), ``nofsync`` (the same with ``--no-fsync``),
``process`` (the same engine with a start command: one process per run) and ``celery`` (Celery 5
prefork x2 + Redis, installed on demand). B1-B4 run in interleaved rounds across the systems.
Anything that cannot be installed or started is reported as "not measured: <reason>". See
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    # First, before bench/ itself (the script's folder), whose tests/ would hide the repository's.
    sys.path.insert(0, str(ROOT))

BENCHES = ("B1", "B2", "B3", "B4", "B5", "C1", "F", "UI")
B5_FAILED_EVERY = 100  # B5's stored runs: 1 in 100 failed, for a filtered inspector page
SYSTEM_KEYS = ("fast", "nofsync", "process", "celery", "postgres", "postgres2", "dbos")


@dataclass(frozen=True)
class Sizes:
    """How many samples each benchmark takes: the default run and ``--quick``."""

    b1: dict[str, tuple[int, int]]  # system -> (samples, warm-up)
    b2: dict[str, int]  # system -> runs started at once, in each round
    b3: dict[str, tuple[int, int]]
    b4: dict[str, int]  # system -> repeats of the 100-way fan-out
    rounds: dict[str, int]  # benchmark -> interleaved rounds the samples are split into
    fan: int
    b5_runs: int
    b5_repeats: int
    c1_start: int
    c1_run: int
    floor: int
    ui_samples: int


DEFAULT = Sizes(
    b1={
        "fast": (1000, 100),
        "blocking": (1000, 100),
        "nofsync": (1000, 100),
        "process": (30, 3),
        "celery": (1000, 100),
        "postgres": (1000, 100),
        "postgres2": (1000, 100),
        "dbos": (200, 20),
    },
    b2={
        "fast": 2000,
        "nofsync": 2000,
        "process": 100,
        "celery": 2000,
        "postgres": 2000,
        "postgres2": 2000,
        "dbos": 1000,
    },
    b3={
        "fast": (300, 30),
        "nofsync": (300, 30),
        "process": (10, 2),
        "celery": (300, 30),
        "postgres": (300, 30),
        "postgres2": (300, 30),
        "dbos": (50, 5),
    },
    b4={
        "fast": 10,
        "nofsync": 10,
        "process": 2,
        "celery": 10,
        "postgres": 10,
        "postgres2": 10,
        "dbos": 3,
    },
    rounds={"B1": 5, "B2": 3, "B3": 5, "B4": 5},
    fan=100,
    b5_runs=100_000,
    b5_repeats=20,
    c1_start=2000,
    c1_run=1000,
    floor=500,
    ui_samples=40,
)
QUICK = Sizes(
    b1={
        "fast": (200, 20),
        "blocking": (200, 20),
        "nofsync": (200, 20),
        "process": (10, 2),
        "celery": (200, 20),
        "postgres": (200, 20),
        "postgres2": (200, 20),
        "dbos": (50, 5),
    },
    b2={
        "fast": 2000,
        "nofsync": 2000,
        "process": 50,
        "celery": 2000,
        "postgres": 2000,
        "postgres2": 2000,
        "dbos": 500,
    },
    b3={
        "fast": (50, 5),
        "nofsync": (50, 5),
        "process": (5, 1),
        "celery": (50, 5),
        "postgres": (50, 5),
        "postgres2": (50, 5),
        "dbos": (10, 2),
    },
    b4={
        "fast": 3,
        "nofsync": 3,
        "process": 1,
        "celery": 3,
        "postgres": 3,
        "postgres2": 3,
        "dbos": 2,
    },
    rounds={"B1": 2, "B2": 2, "B3": 2, "B4": 2},
    fan=100,
    b5_runs=100_000,
    b5_repeats=10,
    c1_start=1000,
    c1_run=500,
    floor=300,
    ui_samples=15,
)


def _split(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}: choose from {', '.join(allowed)}"
        )
    return items


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller samples (under 3 minutes)")
    parser.add_argument(
        "--only",
        type=lambda v: _split(v.upper(), BENCHES, "benchmark"),
        default=list(BENCHES),
        help="comma-separated: " + ",".join(BENCHES),
    )
    parser.add_argument(
        "--systems",
        type=lambda v: _split(v.lower(), SYSTEM_KEYS, "system"),
        default=list(SYSTEM_KEYS),
        help="comma-separated: " + ",".join(SYSTEM_KEYS),
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "bench-results.json",
        help="where to write the JSON report (default: bench-results.json)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="also write the table and notes as Markdown to this file",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the fast-path engine (and the one on PostgreSQL, if measured) with py-spy "
        "during B1, B2 and B4 (those of them in --only)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / ".bench",
        help="logs, databases and profiles (default: .bench/)",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the engines' databases in the work folder (removed by default)",
    )
    return parser.parse_args(argv)


def bounded(coro: Coroutine[Any, Any, Any], seconds: float = 600) -> Any:
    """Run ``coro`` to completion, or fail with NotMeasured after ``seconds``."""
    from bench._procs import NotMeasured

    async def run() -> Any:
        try:
            return await asyncio.wait_for(coro, seconds)
        except asyncio.TimeoutError as exc:
            raise NotMeasured(f"did not finish within {seconds:.0f} s") from exc

    return asyncio.run(run())


class Runner:
    """Runs the selected benchmarks and collects their results."""

    def __init__(self, args: argparse.Namespace) -> None:
        from bench._results import Results

        self.args = args
        self.sizes = QUICK if args.quick else DEFAULT
        self.only: set[str] = set(args.only)
        self.systems: list[str] = list(args.systems)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.workdir: Path = args.workdir / stamp
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.results = Results()
        self.profiles: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.engines: dict[str, Any] = {}
        self.celery: tuple[Any, Any] | None = None
        # Systems whose idle processes use CPU: paused while the other systems' slices run.
        self.pausable: dict[str, Callable[[bool], None]] = {}
        self.idle_cpu: dict[str, float | None] = {}
        from bench._postgres import BenchPostgres

        self.postgres = BenchPostgres()  # started on first use, by the postgres or dbos system

    # --- bookkeeping -----------------------------------------------------------------------
    def _say(self, text: str) -> None:
        print(text, flush=True)

    def _record(self, bench: str, system: str, make: Callable[[], Any]) -> None:
        from bench._procs import NotMeasured
        from bench._results import Result

        t0 = time.perf_counter()
        self._say(f"- {bench} on {system} ...")
        try:
            result = make()
            if asyncio.iscoroutine(result):
                result = bounded(result)
        except NotMeasured as exc:
            result = Result(bench, system, not_measured=str(exc))
        except Exception as exc:  # any failure is reported, never turned into a number
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result = Result(bench, system, not_measured=f"failed: {detail}")
            (self.workdir / f"error-{bench}-{system}.txt").write_text(traceback.format_exc())
        self.results.add(result)
        took = time.perf_counter() - t0
        self.timings[f"{bench}/{system}"] = took
        shown = result.not_measured or ", ".join(
            f"{k}={v:.3g}" for k, v in result.metrics.items() if k != "n"
        )
        self._say(f"  {shown}  ({took:.1f} s)")

    def _all_not_measured(self, system: str, benches: list[str], reason: str) -> None:
        from bench._results import Result

        for bench in benches:
            self.results.add(Result(bench, system, not_measured=reason))
            self._say(f"- {bench} on {system}: not measured: {reason}")

    # --- side by side ---------------------------------------------------------------------
    def _subjects(self, stack: ExitStack) -> dict[str, dict[str, Callable[..., Any]]]:
        """Start every selected system; return, per system, its benchmark functions.

        Each function takes (samples, warm-up) and returns a Result. A system that cannot start
        is reported as not measured for every benchmark and left out.
        """
        from bench import _celery, _dbos, _engine
        from bench._procs import NotMeasured

        benches: list[str] = [b for b in ("B1", "B2", "B3", "B4", "C1") if b in self.only]
        subjects: dict[str, dict[str, Callable[..., Any]]] = {}
        if not benches:
            return subjects
        fan = self.sizes.fan
        for variant in ("fast", "nofsync", "process", "postgres"):
            if variant not in self.systems:
                continue
            if variant != "fast" and benches == ["C1"]:
                continue  # C1 runs against the fast path only
            self._say(f"- starting the engine ({variant}) ...")
            try:
                db = self.postgres.new_database_url() if variant == "postgres" else None
                engine = _engine.start_engine(variant, self.workdir, db)
            except NotMeasured as exc:
                wanted = [b for b in benches if variant == "fast" or b != "C1"]
                self._all_not_measured(variant, wanted, str(exc))
                continue
            stack.callback(_engine.stop_engine, engine)
            self.engines[variant] = engine

            def engine_fns(e: Any) -> dict[str, Callable[..., Any]]:
                return {
                    "B1": lambda n, w: bounded(_engine.b1(e, n, w)),
                    "B1rest": lambda n, w: bounded(_engine.b1_rest(e, n, w)),
                    "B2": lambda n, w: bounded(_engine.b2(e, n, 600)),
                    "B3": lambda n, w: bounded(_engine.b3(e, n, w)),
                    "B4": lambda n, w: bounded(_engine.b4(e, n, fan)),
                }

            subjects[variant] = engine_fns(engine)
            if variant == "fast":
                # The same engine through the blocking client: a system of its own in B1's rounds.
                subjects["blocking"] = {
                    "B1": lambda n, w, e=engine: bounded(_engine.b1_blocking(e, n, w))
                }
        if "celery" in self.systems:
            self._say("- starting Redis and a Celery worker ...")
            celery = _celery.CeleryStack(self.workdir)
            stack.callback(celery.stop)
            try:
                mod = celery.start()
            except NotMeasured as exc:
                wanted = benches + (["B4chord"] if "B4" in benches else [])
                self._all_not_measured("celery", wanted, str(exc))
            else:
                self.celery = (mod, celery)
                subjects["celery"] = {
                    "B1": lambda n, w: _celery.b1(mod, n, w, celery),
                    "B2": lambda n, w: _celery.b2(mod, n, celery),
                    "B3": lambda n, w: _celery.b3(mod, n, w),
                    "B4": lambda n, w: _celery.b4(mod, n, fan),
                    "B4chord": lambda n, w: _celery.b4_chord(mod, n, fan),
                }
        if "postgres2" in self.systems and benches != ["C1"]:
            self._say("- starting two engine nodes on one PostgreSQL database ...")
            try:
                url = self.postgres.new_database_url()
                nodes = []
                for _ in range(2):
                    node = _engine.start_engine("postgres", self.workdir, url)
                    stack.callback(_engine.stop_engine, node)
                    nodes.append(node)
            except NotMeasured as exc:
                self._all_not_measured("postgres2", benches, str(exc))
            else:
                first = nodes[0]

                def on_first(coro: Coroutine[Any, Any, Any]) -> Any:
                    return dataclasses.replace(bounded(coro), system="postgres2")

                subjects["postgres2"] = {
                    # Latency through one node, the other sharing the database and the work.
                    "B1": lambda n, w: on_first(_engine.b1(first, n, w)),
                    "B2": lambda n, w: bounded(_engine.b2_nodes(nodes, "postgres2", n, 600)),
                    "B3": lambda n, w: on_first(_engine.b3(first, n, w)),
                    "B4": lambda n, w: on_first(_engine.b4(first, n, fan)),
                }
        if "dbos" in self.systems:
            self._say("- starting a DBOS worker on PostgreSQL ...")
            try:
                dbos = _dbos.DBOSStack(self.workdir, self.postgres.new_database_url())
                stack.callback(dbos.stop)
                dbos.start()
            except NotMeasured as exc:
                self._all_not_measured("dbos", [b for b in benches if b != "C1"], str(exc))
            else:
                self.idle_cpu["dbos"] = dbos.idle_cpu()
                self._say(
                    f"  the idle DBOS worker uses {_share(self.idle_cpu['dbos'])} of a core:"
                    " paused during the other systems' slices"
                )
                self.pausable["dbos"] = dbos.pause
                subjects["dbos"] = {
                    "B1": lambda n, w: _dbos.b1(dbos, n, w),
                    "B2": lambda n, w: _dbos.b2(dbos, n),
                    "B3": lambda n, w: _dbos.b3(dbos, n, w),
                    "B4": lambda n, w: _dbos.b4(dbos, n, fan),
                }
        return subjects

    def _sizes_of(self, bench: str, system: str) -> tuple[int, int, int]:
        """(total samples, warm-up, rounds) of a benchmark on a system."""
        s = self.sizes
        key = {"B4chord": "B4", "B1rest": "B1"}.get(bench, bench)
        rounds = s.rounds[key]
        if key == "B1":
            return (*s.b1[system], rounds)
        if key == "B2":
            return s.b2[system], 0, rounds
        if key == "B3":
            return (*s.b3[system], rounds)
        return s.b4[system], 0, rounds

    def run_side_by_side(self, subjects: dict[str, dict[str, Callable[..., Any]]]) -> None:
        """B1-B4 in interleaved rounds across the running systems (see bench/_rounds.py)."""
        from bench._procs import NotMeasured
        from bench._results import Result
        from bench._rounds import merge_latency, merge_throughput, rotated, settle, share

        for bench in ("B1", "B1rest", "B2", "B3", "B4", "B4chord"):
            key = {"B4chord": "B4", "B1rest": "B1"}.get(bench, bench)
            if key not in self.only:
                continue
            names = [name for name in subjects if bench in subjects[name]]
            if bench == "B1rest":
                names = names[:1]  # the same REST stack in both engine variants: measure once
            if not names:
                continue
            rounds = self.sizes.rounds[key]
            self._say(f"- {bench}: {rounds} interleaved rounds of {', '.join(names)} ...")
            parts: dict[str, list[Result]] = {name: [] for name in names}
            failed: dict[str, str] = {}
            t0 = time.perf_counter()
            for index in range(rounds):
                for name in rotated(names, index):
                    if name in failed:
                        continue
                    total, warmup, _ = self._sizes_of(bench, name)
                    # B2's size is the batch started at once, in every round; the others' sizes
                    # are totals split across the rounds.
                    n = total if bench == "B2" else share(total, rounds, index)
                    if n == 0:
                        continue
                    warm = warmup if index == 0 else min(warmup, 1 if name == "process" else 5)
                    for other, pause in self.pausable.items():
                        pause(other != name)
                    settle()
                    try:
                        parts[name].append(subjects[name][bench](n, warm))
                    except NotMeasured as exc:
                        failed[name] = str(exc)
                    except Exception as exc:  # any failure is reported, never a number
                        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
                        failed[name] = f"failed: {detail}"
                        error_file = self.workdir / f"error-{bench}-{name}.txt"
                        error_file.write_text(traceback.format_exc())
            note = f"{rounds} rounds interleaved with {', '.join(names)}"
            for name in names:
                if name in failed:
                    result = Result(bench, name, not_measured=failed[name])
                elif bench == "B2":
                    result = merge_throughput(parts[name], note)
                else:
                    result = merge_latency(parts[name], note)
                self.results.add(result)
                shown = result.not_measured or ", ".join(
                    f"{k}={v:.3g}" for k, v in result.metrics.items() if k != "n"
                )
                self._say(f"  {name}: {shown}")
            self.timings[bench] = time.perf_counter() - t0
        for pause in self.pausable.values():
            pause(False)

    def _c1(self, engine: Any) -> Any:
        import subprocess

        from bench._procs import NotMeasured, bench_env
        from bench._results import Result

        metrics: dict[str, float] = {}
        for mode, n in (("start", self.sizes.c1_start), ("run", self.sizes.c1_run)):
            done = subprocess.run(
                [sys.executable, "-m", "bench._c1_client", "--mode", mode, "--n", str(n)],
                cwd=ROOT,
                env=bench_env({"RENDER_LOCAL_DEV_URL": engine.base_url}),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise NotMeasured(f"the C1 client ({mode}) exited {done.returncode}: {last}")
            data = json.loads(done.stdout.strip().splitlines()[-1])
            metrics[f"{mode}_cpu_ms"] = data["cpu_ms_per_call"]
            metrics[f"{mode}_calls_per_s"] = data["calls_per_s"]
            metrics[f"{mode}_n"] = float(n)
        return Result(
            "C1",
            engine.variant,
            metrics,
            note="client process CPU (time.process_time) / calls, 64 in flight, in its own process",
        )

    def _profile_engine(self, engine: Any, system: str) -> None:
        from bench import _engine
        from bench._procs import NotMeasured
        from bench._profile import Profiler, format_summary

        profiled = [b for b in ("B1", "B2", "B4") if b in self.only]
        self._say(f"- profiling the engine ({system}, py-spy) during {', '.join(profiled)} ...")
        b1_n = self.sizes.b1["fast"][0]
        b2_n = self.sizes.b2["fast"]
        b4_n = self.sizes.b4["fast"]
        work: dict[str, Callable[[], Any]] = {
            "B1": lambda: _engine.b1(engine, b1_n, 10),
            "B2": lambda: _engine.b2(engine, b2_n, 600),
            "B4": lambda: _engine.b4(engine, b4_n, 100),
        }
        work_items = [
            (name + suffix, gil, work[name])
            for name in profiled
            for suffix, gil in (("", False), ("-gil", True))
        ]
        for name, gil, work in work_items:
            out = self.workdir / "profiles" / f"{name}-{system}.txt"
            if system != "fast":
                name = f"{name}-{system}"
            profiler = Profiler(engine.pid, out, gil=gil)
            try:
                profiler.start()
                try:
                    result = bounded(work())
                except BaseException:
                    profiler.finish_quietly()
                    raise
                summary = profiler.finish()
            except NotMeasured as exc:
                self.profiles[name] = {"not_measured": str(exc)}
                self._say(f"  {name}: profile not taken: {exc}")
                continue
            self.profiles[name] = {
                "raw_file": str(out),
                "gil_only": gil,
                "summary": summary,
                "metrics_while_profiled": result.metrics,
            }
            title = f"{name}, {system}, " + (
                "threads holding the GIL (Python CPU)" if gil else "all non-idle threads"
            )
            self._say(format_summary(title, summary))

    # --- B5 --------------------------------------------------------------------------------
    def run_b5(self) -> None:
        if "B5" not in self.only or "fast" not in self.systems:
            return
        from bench import _engine
        from bench._fill import fill_runs
        from bench._procs import NotMeasured
        from bench._results import Result

        self._say("\n== engine, 100,000 stored runs (B5) ==")
        db = self.workdir / "b5.db"
        try:
            fill_seconds = fill_runs(str(db), self.sizes.b5_runs, failed_every=B5_FAILED_EVERY)
        except NotMeasured as exc:
            self.results.add(Result("B5", "fast", not_measured=str(exc)))
            return
        self._say(f"  filled {self.sizes.b5_runs:,} runs in {fill_seconds:.1f} s")
        try:
            engine = _engine.start_engine("fast", self.workdir, db=db)
        except NotMeasured as exc:
            self.results.add(Result("B5", "fast", not_measured=str(exc)))
            return

        async def measure() -> Result:
            result = await _engine.b5(engine, self.sizes.b5_runs, self.sizes.b5_repeats)
            result.metrics["fill_seconds"] = fill_seconds
            return result

        try:
            self._record("B5", "fast", measure)
        finally:
            _engine.stop_engine(engine)

    # --- the floor -------------------------------------------------------------------------
    def run_floor(self) -> None:
        if "F" not in self.only:
            return
        import subprocess

        from bench._procs import NotMeasured, bench_env
        from bench._results import Result

        self._say("\n== process floor ==")

        def measure() -> Result:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench._floor",
                    "--n",
                    str(self.sizes.floor),
                    "--db-dir",
                    str(self.workdir),
                ],
                cwd=ROOT,
                env=bench_env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise NotMeasured(f"the floor probe exited {done.returncode}: {last}")
            data = json.loads(done.stdout.strip().splitlines()[-1])
            return Result(
                "F",
                "floor",
                {k: float(v) for k, v in data.items()},
                note="fork + 1-byte pipe answer + exit + reap, vs a 1-byte round trip "
                "to a reused child; both after importing render_sdk.workflows. One-row SQLite "
                "WAL commits in the work folder",
            )

        self._record("F", "floor", measure)

    # --- UI --------------------------------------------------------------------------------
    def run_ui(self) -> None:
        if "UI" not in self.only or "fast" not in self.systems:
            return
        from bench import _engine
        from bench._inspector import ui_latency
        from bench._procs import NotMeasured
        from bench._results import Result

        self._say("\n== the run inspector in chromium (UI) ==")
        try:
            engine = _engine.start_engine("fast", self.workdir, db=self.workdir / "ui.db")
        except NotMeasured as exc:
            self.results.add(Result("UI", "fast", not_measured=str(exc)))
            return
        try:
            self._record("UI", "fast", lambda: ui_latency(engine.base_url, self.sizes.ui_samples))
        finally:
            _engine.stop_engine(engine)

    # --- all -------------------------------------------------------------------------------
    def remove_databases(self) -> None:
        """Delete the SQLite files the engines wrote (the B5 one is about 50 MB)."""
        for pattern in ("*.db", "*.db-wal", "*.db-shm"):
            for path in self.workdir.glob(pattern):
                path.unlink(missing_ok=True)

    def run(self) -> None:
        with ExitStack() as stack:
            stack.callback(self.postgres.stop)  # last: after the systems that use it
            subjects = self._subjects(stack)
            self.run_side_by_side(subjects)
            if "C1" in self.only:
                if "fast" in self.engines:
                    self._record("C1", "fast", lambda: self._c1(self.engines["fast"]))
                if self.celery is not None:
                    mod, _ = self.celery
                    from bench import _celery

                    self._record("C1", "celery", lambda: _celery.c1(mod, self.sizes.c1_start))
            if self.args.profile:
                for system in ("fast", "postgres"):
                    if system in self.engines:
                        self._profile_engine(self.engines[system], system)
            self._say("- stopping the systems ...")
        self.run_b5()
        self.run_floor()
        self.run_ui()


def _share(value: float | None) -> str:
    """A share of a core for people.

    >>> _share(0.314), _share(None)
    ('31 %', 'an unknown share')
    """
    return "an unknown share" if value is None else f"{value * 100:.0f} %"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop everything


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Each client names its engine by base_url; these would send every client to one engine.
    for key in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV"):
        os.environ.pop(key, None)
    from bench._machine import machine_info
    from bench._report import render_floor, render_notes, render_postgres_targets, render_table

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    runner = Runner(args)
    machine = machine_info()
    print(
        f"render_sdk benchmarks ({'quick' if args.quick else 'default'} sizes); "
        f"logs in {runner.workdir}",
        flush=True,
    )
    os.environ.pop("RENDER_USE_LOCAL_DEV", None)
    try:
        runner.run()
    finally:
        if not args.keep_data:
            runner.remove_databases()
    machine["redis_server"] = (
        machine["redis_server"]
        or __import__("bench._machine", fromlist=["redis_server_version"]).redis_server_version()
    )
    elapsed = time.perf_counter() - t0
    table = render_table(runner.results)
    floor = render_floor(runner.results)
    notes = render_notes(runner.results)
    postgres = render_postgres_targets(runner.results)
    text = "\n\n".join(part for part in (table, postgres, floor, notes) if part)
    print("\n" + text)
    print(
        f"\n{elapsed:.0f} s in all; machine: {machine['cpu_model']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB, {machine['kernel']}, {machine['python']}"
    )
    report = {
        "command": [sys.executable, "bench/run.py", *(argv if argv is not None else sys.argv[1:])],
        "quick": args.quick,
        "started_at": started.isoformat(),
        "duration_seconds": elapsed,
        "machine": machine,
        "results": runner.results.to_json(),
        "profiles": runner.profiles,
        "idle_cpu_share_of_a_core": runner.idle_cpu,
        "timings_seconds": runner.timings,
        "table_markdown": text,
        "workdir": str(runner.workdir),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"JSON report: {args.json}")
    if args.markdown is not None:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
