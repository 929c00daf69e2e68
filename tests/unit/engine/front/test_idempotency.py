"""POST /v1/task-runs with an idempotency key: in the body (Render's idempotencyKey) or in the
Idempotency-Key header (its alias here)."""

from __future__ import annotations

from .conftest import Served
from .test_rest import check_error

URL = "/v1/task-runs"


async def test_the_same_key_and_input_answer_the_first_run(served: Served) -> None:
    body = {"task": "square", "input": [3], "idempotencyKey": "key-1"}
    first = await served.http.post(URL, json=body)
    again = await served.http.post(URL, json=body)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert len(served.core.runs) == 1
    other = await served.http.post(URL, json={**body, "idempotencyKey": "key-2"})
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]


async def test_the_header_is_an_alias_of_the_body_key(served: Served) -> None:
    first = await served.http.post(
        URL, json={"task": "square", "input": [3], "idempotencyKey": "k"}
    )
    by_header = await served.http.post(
        URL, json={"task": "square", "input": [3]}, headers={"Idempotency-Key": "k"}
    )
    both = await served.http.post(
        URL,
        json={"task": "square", "input": [3], "idempotencyKey": "k"},
        headers={"Idempotency-Key": "k"},
    )
    assert first.json()["id"] == by_header.json()["id"] == both.json()["id"]
    # With both, the body's key is the one that counts.
    body_wins = await served.http.post(
        URL,
        json={"task": "square", "input": [3], "idempotencyKey": "k"},
        headers={"Idempotency-Key": "other"},
    )
    assert body_wins.json()["id"] == first.json()["id"]


async def test_the_same_key_with_another_input_is_a_409_naming_the_key(served: Served) -> None:
    body = {"task": "square", "input": [3], "idempotencyKey": "order-77"}
    first = await served.http.post(URL, json=body)
    answer = await served.http.post(URL, json={**body, "input": [4]})
    check_error(answer, 409, "conflict", "'order-77'", first.json()["id"], "different")
    answer = await served.http.post(URL, json={**body, "task": "greet", "input": {"name": "x"}})
    check_error(answer, 409, "conflict", "'order-77'")
    assert len(served.core.runs) == 1  # nothing was started by the refused requests


async def test_bad_keys_are_refused_clearly(served: Served) -> None:
    long_key = "k" * 256
    answer = await served.http.post(
        URL, json={"task": "square", "input": [3], "idempotencyKey": long_key}
    )
    check_error(answer, 400, "invalid_request", "'idempotencyKey' is 256 characters", "255")
    answer = await served.http.post(
        URL, json={"task": "square", "input": [3]}, headers={"Idempotency-Key": long_key}
    )
    check_error(answer, 400, "invalid_request", "Idempotency-Key header is 256 characters")
    answer = await served.http.post(URL, json={"task": "square", "idempotencyKey": 12})
    check_error(answer, 400, "invalid_request", "'idempotencyKey' must be a string, not a number")
    answer = await served.http.post(URL, json={"task": "square", "idempotencyKey": " "})
    check_error(answer, 400, "invalid_request", "'idempotencyKey' must not be empty")
    assert served.core.runs == {}
    ok = await served.http.post(
        URL, json={"task": "square", "input": [3], "idempotencyKey": "k" * 255}
    )
    assert ok.status_code == 202
