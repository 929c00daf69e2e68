"""The examples in the client's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "render_sdk.client._config",
    "render_sdk.client._constants",
    "render_sdk.client._retry",
    "render_sdk.client._sse",
    "render_sdk.client.errors",
    "render_sdk.client.types",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    assert result.attempted > 0
