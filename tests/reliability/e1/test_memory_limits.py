"""The plan -> memory limit mapping, applied to a real child process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from render_sdk.engine._limits import (
    PLAN_MEMORY_MB,
    apply_memory_limit,
    explain_memory_error,
    plan_memory_mb,
)
from render_sdk.workflows._options import PLANS

MB = 1024 * 1024


def test_every_plan_the_sdk_accepts_has_a_size() -> None:
    assert set(PLANS) == set(PLAN_MEMORY_MB)
    assert plan_memory_mb("starter") == 512
    assert plan_memory_mb("standard") == 2048
    assert plan_memory_mb("pro") == 4096
    assert plan_memory_mb(None) == 2048  # Render's default plan


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait()


def _data_limit(pid: int) -> str:
    with open(f"/proc/{pid}/limits", encoding="ascii") as limits:
        line = next(line for line in limits if line.startswith("Max data size"))
    return line.split()[3]  # the soft limit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prlimit is Linux only")
def test_limit_follows_each_attempts_plan(child: subprocess.Popen[bytes]) -> None:
    assert apply_memory_limit(child.pid, "starter")
    assert _data_limit(child.pid) == str(512 * MB)
    # A reused process gets the next attempt's plan, larger or smaller.
    assert apply_memory_limit(child.pid, "pro")
    assert _data_limit(child.pid) == str(4096 * MB)
    assert apply_memory_limit(child.pid, None)
    assert _data_limit(child.pid) == str(2048 * MB)


def test_a_vanished_process_is_reported_not_raised(child: subprocess.Popen[bytes]) -> None:
    pid = child.pid
    assert child.stdin is not None
    child.stdin.close()
    child.wait()
    assert apply_memory_limit(pid, "starter") is False


def test_memory_error_names_the_plan() -> None:
    assert explain_memory_error("MemoryError", "starter") == (
        "MemoryError (the task's plan 'starter' limits its worker process to 512 MB of memory)"
    )
    assert "'standard'" in explain_memory_error("MemoryError: big", None)
    assert explain_memory_error("ValueError: MemoryError", "pro") == "ValueError: MemoryError"
