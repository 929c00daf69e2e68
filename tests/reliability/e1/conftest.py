"""Reliability tests (engine crash, worker faults, load): a bounded version runs by default.

The full versions carry the ``soak`` marker and run with ``pytest -m soak tests/reliability/e1``
(``nox -s soak``). Without ``-m soak`` in the command line they are skipped here, so the default
test run stays short whatever its addopts say.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long reliability runs (nox -s soak, pytest -m soak)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with pytest -m soak (nox -s soak)")
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)
