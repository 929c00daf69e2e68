"""Plain records the engine's core hands to its front (REST API, SSE, CLI).

Field names are snake_case here; the REST layer turns them into the contract's camelCase JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSONInput = list[Any] | dict[str, Any]


class RunStatus(str, enum.Enum):
    """Status of a run or an attempt (``completed`` means success, as Render serves it)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)


class ReasonCode(str, enum.Enum):
    """Why a run or an attempt changed state (render_sdk/engine/lifecycle.py makes the moves)."""

    STARTED = "started"  # an attempt began on a worker
    SUCCEEDED = "succeeded"  # the task returned
    TASK_ERROR = "task_error"  # the task raised
    CRASHED = "crashed"  # the worker process ended without reporting, or could not start
    TIMED_OUT = "timed_out"  # past the task's timeout_seconds
    CANCELED = "canceled"  # a cancel request for this run
    ANCESTOR_CANCELED = "ancestor_canceled"  # a cancel request for a run above it
    NOT_STORED = "not_stored"  # started, but its insert failed: stopped rather than unrecorded
    INTERRUPTED = "interrupted"  # the engine stopped while the attempt ran
    TASK_GONE = "task_gone"  # found unfinished at start, its task no longer registered


@dataclass(frozen=True)
class RetryOptions:
    max_retries: int
    wait_duration_ms: int
    factor: float


@dataclass(frozen=True)
class ParameterRecord:
    name: str
    has_default: bool
    type: str | None = None
    default_value: str | None = None  # JSON-encoded, as registered


@dataclass(frozen=True)
class TaskRecord:
    id: str  # "tsk-..."
    name: str
    created_at: datetime
    retry: RetryOptions | None = None
    timeout_seconds: float | None = None
    plan: str | None = None
    parameters: tuple[ParameterRecord, ...] = ()
    workflow_id: str | None = None
    workflow_version_id: str | None = None


@dataclass
class AttemptRecord:
    number: int  # 1-based
    status: RunStatus  # running, completed, failed or canceled
    started_at: datetime
    completed_at: datetime | None = None
    error: str | None = None
    results: list[Any] | None = None
    # The worker's start-up times it reported on GET /input (Render 1.x query parameters):
    # sdk_import_started_at, sdk_import_finished_at, sdk_started_at. None when it sent none.
    startup: dict[str, datetime] | None = None
    # Why it ended, once it has (None before, and in records written before reasons were kept),
    # and the fact its label names: the exit status of a crash, the timeout ("2s").
    reason: ReasonCode | None = None
    reason_detail: str | None = None

    @property
    def sdk_import_started_at(self) -> datetime | None:
        return self.startup.get("sdk_import_started_at") if self.startup else None

    @property
    def sdk_import_finished_at(self) -> datetime | None:
        return self.startup.get("sdk_import_finished_at") if self.startup else None

    @property
    def sdk_started_at(self) -> datetime | None:
        return self.startup.get("sdk_started_at") if self.startup else None

    def copy(self) -> AttemptRecord:
        """A shallow copy (cheaper than ``dataclasses.replace``, which is taken per run)."""
        clone = object.__new__(AttemptRecord)
        clone.__dict__.update(self.__dict__)
        return clone


@dataclass
class RunRecord:
    id: str  # "trn-..."
    task_id: str
    task_name: str
    status: RunStatus
    input: JSONInput
    parent_id: str  # "" for a root run
    root_id: str  # its own id for a root run
    created_at: datetime
    retries: int = 0
    attempts: list[AttemptRecord] = field(default_factory=list)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    results: list[Any] | None = None
    error: str | None = None
    # Sequence number of this run's terminal event (monotonic across the engine's life, kept in
    # the store); None until the run is terminal. It is the SSE event id.
    event_seq: int | None = None
    # The 0-based attempt of the parent run that started this subtask; None for a root run.
    parent_attempt: int | None = None
    # Why it is in its status: the reason of its last move (None while it has not started, and
    # in records written before reasons were kept), and the fact its label names (the ancestor
    # whose cancel ended it, the task that is gone, an attempt's exit status or timeout).
    reason: ReasonCode | None = None
    reason_detail: str | None = None
    # The engine node holding the run (running it, or holding it in a retry wait it will
    # resume); None while any node may claim it, and once it is terminal (docs/engine.md,
    # "Nodes and claims").
    owner: str | None = None
    # When a run waiting for a retry may start again (None: at once).
    not_before: datetime | None = None

    def copy(self) -> RunRecord:
        """A copy that later changes to this record or its attempts do not touch."""
        clone = object.__new__(RunRecord)
        clone.__dict__.update(self.__dict__)
        clone.attempts = [a.copy() for a in self.attempts]
        return clone


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing returns (every set field must match).

    ``statuses``: runs in any of these statuses (None: any status). ``roots_only``: runs that
    are not subtasks (``parent_id == ""``). A store matches ``statuses`` against the status it
    has stored; :meth:`EngineCore.list_runs <render_sdk.engine.core.EngineCore.list_runs>`
    answers with the status the engine shows (docs/engine.md, "Listing runs").
    """

    task_id: str | None = None
    root_run_id: str | None = None
    owner_id: str | None = None  # accepted and ignored locally: one owner
    workflow_id: str | None = None
    workflow_version_id: str | None = None
    statuses: frozenset[RunStatus] | None = None
    roots_only: bool = False


@dataclass(frozen=True)
class LogRecord:
    run_id: str
    attempt: int
    stream: str  # "stdout" or "stderr"
    timestamp: datetime
    message: str
    seq: int  # monotonic; the cursor of the logs listing


class EngineError(Exception):
    """An error the REST API turns into ``{"id": error_id, "message": message}`` with ``status``."""

    status = 500
    error_id = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(EngineError):
    status = 400
    error_id = "invalid_request"


class NotFound(EngineError):
    status = 404
    error_id = "not_found"


class Conflict(EngineError):
    status = 409
    error_id = "conflict"
