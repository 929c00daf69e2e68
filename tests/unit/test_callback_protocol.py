"""The callback API's shared names and codec (render_sdk/_callback_protocol.py)."""

from __future__ import annotations

import base64
import json
import math

import pytest

from render_sdk import _callback_protocol as protocol
from render_sdk.engine import callbacks
from render_sdk.workflows import _codec


@pytest.mark.parametrize("value", [[1, "é", {"a": None}], {"x": [True, 2.5]}, [], "text"])
def test_values_round_trip_as_base64_of_utf8_json(value: object) -> None:
    encoded = protocol.encode(value)
    assert json.loads(base64.b64decode(encoded).decode("utf-8")) == value
    assert protocol.decode(encoded) == value


def test_empty_is_none_and_garbage_is_a_value_error() -> None:
    assert protocol.decode("") is None
    for bad in ["not base64!", base64.b64encode(b"\xff").decode(), base64.b64encode(b"{").decode()]:
        with pytest.raises(ValueError):
            protocol.decode(bad)


def test_nan_only_when_allowed() -> None:
    with pytest.raises(ValueError):
        protocol.encode([math.nan])
    assert math.isnan(protocol.decode(protocol.encode([math.nan], allow_nan=True))[0])


def test_worker_and_engine_use_the_same_names_and_codec() -> None:
    assert _codec.encode is protocol.encode and _codec.decode is protocol.decode
    assert callbacks.ATTEMPT_HEADER == protocol.ATTEMPT_HEADER.lower()
    assert callbacks.NEXT_INPUT_HEADER == protocol.NEXT_INPUT_HEADER.lower()
    assert callbacks.OUTPUT_HEADER == protocol.OUTPUT_HEADER.lower()
    assert callbacks.LONG_POLL_HEADER == protocol.LONG_POLL_HEADER.lower()
    assert protocol.PATHS == (
        "/input",
        "/callback",
        "/run-subtask",
        "/get-subtask-result",
        "/register-tasks",
    )
