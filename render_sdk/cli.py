"""The ``render-workflows`` command.

    render-workflows main:app            run the worker for ``app`` in main.py (what Render runs)
    render-workflows dev main:app        start the local engine serving main.py's tasks
    render-workflows dev -- CMD ...      start the local engine with any worker start command
    render-workflows runs [list|show ID|logs ID|cancel ID|tail]   the runs of an engine

Importing this module is cheap: the engine is imported only for ``dev``, the client only for
``runs``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``render-workflows`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "dev":
        from render_sdk.engine.cli import main as dev_main

        return dev_main(args[1:])
    if args and args[0] == "runs":
        from render_sdk.runs_cli import main as runs_main

        return runs_main(args[1:])
    from render_sdk.workflows.cli import main as worker_main

    return worker_main(args)


if __name__ == "__main__":
    sys.exit(main())
