"""Capture of worker output: split into lines, attributed to attempts, bounded, logged.

Each attempt gets an :class:`AttemptLog` that keeps at most ``limit`` bytes of its output (then one
truncation note and the ``truncated`` flag) and the last lines of its stderr for crash reports.
A :class:`ProcessOutput` reads one process's stdout and stderr and hands lines to the attempt
currently running there. In serve mode a process runs many attempts; the worker ends each one
with the line ``\\x1erender-sdk:end-of-attempt <attempt_id>`` on both streams, which moves the
attribution on to the next attempt and is never stored.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from render_sdk._callback_protocol import END_OF_ATTEMPT
from render_sdk.engine._signal import Signal
from render_sdk.engine.records import LogRecord

DEFAULT_LOG_LIMIT = 1024 * 1024
MARKER = END_OF_ATTEMPT + " "
logs_logger = logging.getLogger("render_sdk.engine.logs")
_TAIL_LINES = 20
_TAIL_CHARS = 4000


class AttemptLog:
    """Output of one attempt.

    log = AttemptLog("trn-1", 1, "square", sink, seq_source)
    log.add("stdout", "hello")
    """

    def __init__(
        self,
        run_id: str,
        attempt: int,
        task_name: str,
        sink: Callable[[Sequence[LogRecord]], None],
        next_seq: Callable[[], int],
        on_truncate: Callable[[str], None],
        token: str | None = None,
        limit: int = DEFAULT_LOG_LIMIT,
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.task_name = task_name
        self.token = token
        self._sink = sink
        self._next_seq = next_seq
        self._on_truncate = on_truncate
        self._remaining = limit
        self._limit = limit
        self.truncated = False
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._ended: set[str] = set()
        self._ended_event = Signal()

    def add(self, stream: str, lines: Sequence[str]) -> None:
        """Record ``lines`` (without newlines) written to ``stream``."""
        if stream == "stderr":
            self.stderr_tail.extend(lines)
        if self.truncated:
            return
        now = datetime.now(timezone.utc)
        records: list[LogRecord] = []
        for line in lines:
            cost = len(line) + 1
            if cost > self._remaining:
                self.truncated = True
                note = f"[output truncated: more than {self._limit} bytes]"
                records.append(LogRecord(self.run_id, self.attempt, stream, now, note, 0))
                break
            self._remaining -= cost
            records.append(LogRecord(self.run_id, self.attempt, stream, now, line, 0))
        if logs_logger.isEnabledFor(logging.INFO):
            # The console shows what is stored: a flood ends with the truncation note there too.
            for r in records:
                logs_logger.info("%s %s: %s", self.task_name, self.run_id, r.message)
        if records:
            self._sink(
                [
                    LogRecord(
                        r.run_id, r.attempt, r.stream, r.timestamp, r.message, self._next_seq()
                    )
                    for r in records
                ]
            )
        if self.truncated:
            self._on_truncate(self.run_id)

    def stderr_text(self) -> str:
        """The last lines of stderr, for an error message."""
        text = "\n".join(self.stderr_tail)
        return text[-_TAIL_CHARS:]

    def end(self, stream: str) -> None:
        self._ended.add(stream)
        if len(self._ended) >= 2:
            self._ended_event.set()

    async def wait_ended(self, timeout: float) -> bool:
        """Wait until both streams carried this attempt's end marker (or ``timeout``)."""
        return await self._ended_event.wait(timeout)


class ProcessOutput:
    """Read a process's stdout and stderr and route lines to its attempts.

    output = ProcessOutput(label="worker 123")
    output.assign(attempt_log)
    await output.pump(process.stdout, "stdout")
    """

    def __init__(self, label: str, *, echo: bool = True) -> None:
        self.label = label
        # Whether output outside any attempt goes to the console (``render_sdk.logs``).
        self.echo = echo
        self._queues: dict[str, collections.deque[AttemptLog]] = {
            "stdout": collections.deque(),
            "stderr": collections.deque(),
        }
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self.markers_seen = False

    def assign(self, log: AttemptLog) -> None:
        """Attribute the output that follows to ``log`` (after the attempts already queued)."""
        for q in self._queues.values():
            q.append(log)

    def release(self, log: AttemptLog) -> None:
        """Stop attributing output to ``log``."""
        for q in self._queues.values():
            if log in q:
                q.remove(log)

    async def pump(self, reader: asyncio.StreamReader | None, stream: str) -> None:
        """Read ``reader`` to its end."""
        if reader is None:
            return
        partial = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            data = partial + chunk
            *complete, partial = data.split(b"\n")
            if complete:
                self._route(stream, [c.decode("utf-8", "replace").rstrip("\r") for c in complete])
            if len(partial) > 65536:
                self._route(stream, [partial.decode("utf-8", "replace")])
                partial = b""
        if partial:
            self._route(stream, [partial.decode("utf-8", "replace")])

    def _route(self, stream: str, lines: list[str]) -> None:
        queue = self._queues[stream]
        pending: list[str] = []
        for line in lines:
            if line.startswith(MARKER):
                self.markers_seen = True
                token = line[len(MARKER) :].strip()
                self._flush(stream, pending)
                pending = []
                while queue:
                    log = queue.popleft()
                    log.end(stream)
                    if log.token == token:
                        break
                continue
            pending.append(line)
        self._flush(stream, pending)

    def _flush(self, stream: str, lines: list[str]) -> None:
        if not lines:
            return
        if stream == "stderr":
            self.stderr_tail.extend(lines)
        queue = self._queues[stream]
        if queue:
            queue[0].add(stream, lines)
        elif self.echo and logs_logger.isEnabledFor(logging.INFO):
            for line in lines:
                logs_logger.info("%s: %s", self.label, line)
