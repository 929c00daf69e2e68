"""Starting, watching and stopping the processes a benchmark needs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class NotMeasured(Exception):
    """A benchmark could not run; the message says why and ends up in the table."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for child processes: the repository root importable, no client overrides."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    for key in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV"):
        env.pop(key, None)
    env.update(extra or {})
    return env


def spawn(
    command: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own process group with stdout and stderr going to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env or bench_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_until(
    ready: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    what: str,
    log: Path,
    timeout: float = 60.0,
) -> None:
    """Poll ``ready()`` (start-up only, never a measured path) until true; NotMeasured otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotMeasured(f"{what} exited with status {proc.returncode}: {tail(log)}")
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise NotMeasured(f"{what} was not ready within {timeout:.0f} s: {tail(log)}")


def tail(log: Path, lines: int = 3) -> str:
    """The last lines of a log file, on one line, for an error message."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
    """Stop a process group started by :func:`spawn`: ``sig`` first, SIGKILL if it lingers."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return proc.wait()


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MiB (Linux /proc), or None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def system_cpu_seconds(pid: int) -> float | None:
    """Kernel-mode CPU seconds of one process so far (``stime``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def reaped_children_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of the children ``pid`` has waited for (``cutime + cstime``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
