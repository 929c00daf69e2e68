"""What machine and software a benchmark ran on, for the JSON report and docs."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "render_sdk",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "sniffio",
    "starlette",
    "uvicorn",
    "sse-starlette",
    "httptools",
    "uvloop",
    "celery",
    "kombu",
    "redis",
    "py-spy",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
    if name == "render_sdk":  # importable from the source tree without being installed
        try:
            from render_sdk._version import __version__

            return f"{__version__} (source tree)"
        except ImportError:
            return None
    return None


def source_revision() -> dict[str, Any]:
    """The git commit of the measured source tree and whether render_sdk/ had local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "render_sdk"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "render_sdk_modified": None}
    return {"commit": head or None, "render_sdk_modified": bool(dirty)}


def redis_server_version() -> str | None:
    """``redis-server --version`` or None when it is not installed."""
    exe = shutil.which("redis-server")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory, kernel, Python and package versions, current load.

    >>> "python" in machine_info()
    True
    """
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "packages": {name: _version(name) for name in PACKAGES},
        "redis_server": redis_server_version(),
        "load_average_at_start": load,
        "source": source_revision(),
    }
