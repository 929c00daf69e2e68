"""Test-suite wide settings."""

from __future__ import annotations

import os

# The interop tests need Render's published SDK in a separate virtualenv; `nox -s interop` makes
# it and sets RENDER06_PYTHON. Without it, the folder is not collected (it is not skipped: it is
# run by its own CI session).
collect_ignore = [] if os.environ.get("RENDER06_PYTHON") else ["interop"]
