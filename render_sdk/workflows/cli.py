"""``render-workflows module:app``: import the user's app and run its worker."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

USAGE = """\
usage: render-workflows MODULE:APP
       render-workflows dev [options] MODULE:APP
       render-workflows runs [list|show ID|logs ID|cancel ID|tail]

Run the worker of the Workflows object APP found in MODULE (for example `main:app` for
`app = Workflows()` in main.py). The current directory is put on the import path. This is the
command Render runs, with RENDER_SDK_MODE and RENDER_SDK_SOCKET_PATH set.

To run tasks on your machine, start the local engine instead: `render-workflows dev main:app`
(see `render-workflows dev --help`). To see the runs of an engine in a terminal:
`render-workflows runs` (see `render-workflows runs --help`).
"""


def _error(message: str) -> int:
    print(f"render-workflows: error: {message}", file=sys.stderr)
    return 2


def import_failure(module_name: str, exc: BaseException) -> str:
    """A short account of why importing the user's module failed: the error, where it was
    raised in the user's code (file and line, with the line), no traceback.

    >>> import_failure("main", SyntaxError("invalid syntax", ("main.py", 6, 14, "return x +\n")))
    "cannot import module 'main': SyntaxError: invalid syntax (main.py, line 6)\n    return x +"
    """
    where = ""
    source = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({exc.filename}, line {exc.lineno})"
        source = (exc.text or "").rstrip()
        message = exc.msg
    else:
        message = str(exc)
        frames = traceback.extract_tb(exc.__traceback__)
        # The innermost frame in the project (the current directory), else outside the SDK and
        # the import machinery.
        project = os.getcwd() + os.sep
        mine = [f for f in frames if f.filename.startswith(project)] or [
            f for f in frames if not f.filename.startswith(("<", _SDK_DIR))
        ]
        if mine:
            frame = mine[-1]
            where = f" ({frame.filename}, line {frame.lineno})"
            source = (frame.line or "").strip()
    text = f"cannot import module {module_name!r}: {type(exc).__name__}: {message}{where}"
    return text + (f"\n    {source.strip()}" if source else "")


_SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list[str]) -> int:
    """Run the worker for ``argv[0]`` (``module:app``); return the exit status.

    main(["main:app"])   # what `render-workflows main:app` does
    """
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if len(argv) != 1:
        print(USAGE, end="", file=sys.stderr)
        return 2
    target = argv[0]
    module_name, sep, attr_path = target.partition(":")
    if (
        not sep
        or not all(part.isidentifier() for part in module_name.split("."))
        or not all(part.isidentifier() for part in attr_path.split("."))
    ):
        return _error(
            f"{target!r} is not of the form MODULE:APP (for example main:app, or pkg.tasks:app)"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            return _error(f"cannot find module {module_name!r} (looked in {cwd} and sys.path)")
        return _error(import_failure(module_name, exc))
    except Exception as exc:  # the user's module raised while being imported
        return _error(import_failure(module_name, exc))
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return _error(f"module {module_name!r} has no attribute {attr_path!r}")

    from render_sdk.workflows._app import Workflows
    from render_sdk.workflows._worker import run_worker, worker_ran

    if worker_ran():
        # The module called app.start() while being imported; the work is done.
        return 0

    if not isinstance(obj, Workflows):
        return _error(
            f"{target!r} is a {type(obj).__name__}, not a Workflows app "
            "(define it with `app = Workflows()`)"
        )
    return run_worker(obj)
