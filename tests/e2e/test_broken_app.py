"""A task module that cannot be imported: one short message, exit status 2, whatever the number
of workers the engine would pre-start (real `render-workflows dev`, real worker processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SYNTAX_ERROR = """\
from render_sdk import Workflows

app = Workflows()


@app.task
def ok(x: int) -> int:
    return x +
"""

RAISES_ON_IMPORT = """\
from render_sdk import Workflows

app = Workflows()
settings = {"region": "oregon"}
REGION = settings["zone"]
"""


def run_dev(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "main.py").write_text(source)
    return subprocess.run(
        [
            *(sys.executable, "-m", "render_sdk.cli", "dev", "--port", "0", "--db", ":memory:"),
            *("--max-concurrency", "16", "main:app"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("source", "error", "line", "code"),
    [
        (SYNTAX_ERROR, "SyntaxError: invalid syntax", 8, "return x +"),
        (RAISES_ON_IMPORT, "KeyError: 'zone'", 5, 'REGION = settings["zone"]'),
    ],
    ids=["syntax-error", "raises-on-import"],
)
def test_a_broken_module_is_one_short_message_and_status_2(
    tmp_path: Path, source: str, error: str, line: int, code: str
) -> None:
    done = run_dev(tmp_path, source)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0] == (
        f"render-workflows dev: error: cannot import module 'main': {error} "
        f"({tmp_path / 'main.py'}, line {line})"
    )
    assert lines[1].strip() == code
    assert "Traceback" not in done.stdout + done.stderr


def test_the_worker_alone_says_the_same(tmp_path: Path) -> None:
    """`render-workflows main:app`, as Render's platform runs it: the same two lines, status 2."""
    (tmp_path / "main.py").write_text(SYNTAX_ERROR)
    done = subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", "main:app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"RENDER_SDK_MODE": "register", "RENDER_SDK_SOCKET_PATH": str(tmp_path / "s.sock")},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "render-workflows: error: cannot import module 'main': SyntaxError: invalid syntax "
        f"({tmp_path / 'main.py'}, line 8)",
        "    return x +",
    ]
