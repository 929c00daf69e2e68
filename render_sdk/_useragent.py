"""The User-Agent both wires send: ``render-sdk-python/<version> (<impl>/<py>; <os>/<arch>)``."""

from __future__ import annotations

import platform

from render_sdk._version import __version__


def user_agent() -> str:
    """Return this SDK's User-Agent string.

    >>> user_agent().startswith("render-sdk-python/")
    True
    """
    implementation = platform.python_implementation().lower()
    system = platform.system().lower() or "unknown"
    arch = platform.machine().lower() or "unknown"
    return (
        f"render-sdk-python/{__version__} "
        f"({implementation}/{platform.python_version()}; {system}/{arch})"
    )


USER_AGENT = user_agent()
