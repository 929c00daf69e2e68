"""Sampling profiles of the engine (and its worker processes) with py-spy.

``py-spy record --format raw`` writes one line per distinct stack: ``frame;frame;... count``.
Idle threads are not sampled, so a frame's share of samples is its share of CPU time.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._procs import NotMeasured

_PROCESS = re.compile(r'^process (\d+):"(.*)"$')
# Frames every stack of a thread passes through: left out of the inclusive ranking.
_BOILERPLATE = (
    "_run_module_as_main ",
    "_run_code ",
    "<module> ",
    "main (",
    "run (asyncio/",
    "Runner.run ",
    "BaseEventLoop.run_until_complete ",
    "BaseEventLoop.run_forever ",
    "BaseEventLoop._run_once ",
    "Handle._run ",
    "Thread._bootstrap",
    "Thread.run ",
    "Context.run ",
)


def py_spy() -> str | None:
    """Path of the py-spy executable (beside this interpreter, or on PATH)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    """``py-spy record`` attached to ``pid`` (and its subprocesses) until :meth:`finish`.

    with_profile = Profiler(engine.pid, Path("b2.txt")).start()
    ...  # the workload
    summary = with_profile.finish()
    """

    def __init__(
        self, pid: int, out: Path, rate: int = 200, subprocesses: bool = True, gil: bool = False
    ) -> None:
        self.pid = pid
        self.out = out
        self.rate = rate
        self.subprocesses = subprocesses
        self.gil = gil  # sample only threads holding the GIL: Python CPU, no native waits
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Profiler:
        exe = py_spy()
        if exe is None:
            raise NotMeasured("py-spy is not installed (pip install py-spy)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        command = [
            exe,
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--output",
            str(self.out),
            "--nonblocking",
        ]
        if self.subprocesses:
            command.append("--subprocesses")
        if self.gil:
            command.append("--gil")
        log_path = self.out.with_suffix(".log")
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        # py-spy attaches in the background and says so; wait for that (start-up only).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            if b"Sampling process" in log_path.read_bytes():
                return self
            time.sleep(0.05)
        text = log_path.read_text(errors="replace").strip().splitlines()
        self.finish_quietly()
        raise NotMeasured("py-spy did not start sampling: " + (text[-1] if text else "no output"))

    def finish_quietly(self) -> None:
        """Stop py-spy without reading its output."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def finish(self, top: int = 15) -> dict[str, Any]:
        """Stop sampling (SIGINT makes py-spy write its file) and summarise the profile."""
        if self.proc is None:
            raise RuntimeError("Profiler.finish() called before start()")
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.out.exists():
            log = self.out.with_suffix(".log")
            text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
            raise NotMeasured("py-spy wrote no profile: " + (text[-1] if text else "no output"))
        return summarize(self.out.read_text(errors="replace"), top)


def _split(line: str) -> tuple[list[str], int] | None:
    stack, _, count = line.rpartition(" ")
    if not stack or not count.isdigit():
        return None
    return stack.split(";"), int(count)


def _role(process_frames: list[tuple[str, str]]) -> str:
    """Samples are rooted at the profiled process: one process frame (or none) is the engine
    itself, more are its child processes (the workers)."""
    return "engine" if len(process_frames) <= 1 else "workers"


def summarize(raw: str, top: int = 15) -> dict[str, Any]:
    """Top frames by self samples and by inclusive samples, per role (engine / workers).

    >>> s = summarize("a (m.py:1);b (m.py:2) 3\\na (m.py:1) 1\\n", top=2)
    >>> s["engine"]["self"][0]
    ['b (m.py:2)', 3, 75.0]
    """
    totals: Counter[str] = Counter()
    self_counts: dict[str, Counter[str]] = {}
    incl_counts: dict[str, Counter[str]] = {}
    for line in raw.splitlines():
        parsed = _split(line)
        if parsed is None:
            continue
        frames, count = parsed
        procs: list[tuple[str, str]] = []
        code: list[str] = []
        for frame in frames:
            m = _PROCESS.match(frame)
            if m:
                procs.append((m.group(1), m.group(2)))
            else:
                code.append(_short(frame))
        role = _role(procs)
        totals[role] += count
        if code:
            self_counts.setdefault(role, Counter())[code[-1]] += count
            seen = set()
            for frame in code:
                if frame not in seen and not frame.startswith(_BOILERPLATE):
                    seen.add(frame)
                    incl_counts.setdefault(role, Counter())[frame] += count
    out: dict[str, Any] = {}
    for role, total in totals.items():

        def rows(counter: Counter[str], total: int = total) -> list[list[Any]]:
            return [[f, c, round(100.0 * c / total, 1)] for f, c in counter.most_common(top)]

        out[role] = {
            "samples": total,
            "self": rows(self_counts.get(role, Counter())),
            "inclusive": rows(incl_counts.get(role, Counter())),
        }
    return out


def _short(frame: str) -> str:
    """Shorten absolute paths in ``func (path:line)`` to the part after site-packages/ or the
    repository root."""
    for marker in ("site-packages/", "/lib/python3.", "/work/main/"):
        index = frame.find(marker)
        if index != -1:
            head = frame[: frame.rfind("(", 0, index) + 1]
            tail = frame[index + len(marker) :]
            if marker == "/lib/python3.":
                tail = "stdlib/" + tail.split("/", 1)[-1]
            return head + tail
    return frame


def format_summary(title: str, summary: dict[str, Any], top: int = 10) -> str:
    """A readable text block of a :func:`summarize` result."""
    lines = [f"## profile: {title}"]
    for role, data in summary.items():
        lines.append(f"### {role}: {data['samples']} samples")
        lines.append("self (function where the CPU was spent):")
        lines += [f"  {pct:5.1f}%  {frame}" for frame, _, pct in data["self"][:top]]
        lines.append("inclusive (function and what it called):")
        lines += [f"  {pct:5.1f}%  {frame}" for frame, _, pct in data["inclusive"][:top]]
    return "\n".join(lines)
