"""Hand-written bad input on the REST API, beyond tests/e2e/test_rest_errors.py.

Forged and stale cursors on every listing, a thousand run ids in one events request (the limit),
and every wrong form of the Authorization header, against a real engine that requires a key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e._engine import EngineProcess
from tests.e2e.test_rest_errors import check_error


@pytest.fixture(scope="module")
def api(secured_engine: EngineProcess, api_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=secured_engine.base_url + "/v1", headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def finished_runs(api: httpx.Client) -> list[str]:
    """Three finished runs with output (so every listing has more than one page)."""
    ids = [api.post("/task-runs", json={"task": "chatty", "input": [4]}).json()["id"]]
    ids += [
        api.post("/task-runs", json={"task": "square", "input": [i]}).json()["id"] for i in (2, 3)
    ]
    for run_id in ids:
        with api.stream("GET", "/task-runs/events", params={"taskRunIds": run_id}) as events:
            for _ in events.iter_lines():
                pass
    return ids


# --- cursors ------------------------------------------------------------------------------------


def test_forged_run_cursors_are_refused(api: httpx.Client, finished_runs: list[str]) -> None:
    page = api.get("/task-runs", params={"limit": 1}).json()
    cursor = page[0]["cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    version, _position, mac = raw.split(b".", 2)
    moved = base64.urlsafe_b64encode(version + b".0." + mac).decode().rstrip("=")
    forged = [
        cursor[:-2],  # cut short
        cursor + "AA",  # extended
        cursor.swapcase(),  # damaged
        moved,  # another position with the original MAC
        finished_runs[0],  # a run id is not a cursor
        "r1.5",  # the plain-text form without a MAC
        "%00",
        "x" * 5000,
    ]
    for bad in forged:
        answer = api.get("/task-runs", params={"cursor": bad})
        check_error(answer, 400, "cursor")
        assert len(answer.json()["message"]) < 200  # a long cursor is not echoed in full
    assert api.get("/task-runs", params={"cursor": cursor}).status_code == 200


def test_cursor_of_one_listing_is_refused_by_another(
    api: httpx.Client, finished_runs: list[str]
) -> None:
    run_cursor = api.get("/task-runs", params={"limit": 1}).json()[0]["cursor"]
    task_cursor = api.get("/tasks", params={"limit": 1}).json()[0]["cursor"]
    log_cursor = api.get("/logs", params={"taskRunId": finished_runs[0]}).json()[0]["cursor"]
    check_error(api.get("/tasks", params={"cursor": run_cursor}), 400, "cursor")
    check_error(api.get("/task-runs", params={"cursor": task_cursor}), 400, "cursor")
    check_error(api.get("/task-runs", params={"cursor": log_cursor}), 400, "cursor")
    check_error(
        api.get("/logs", params={"taskRunId": finished_runs[0], "cursor": run_cursor}),
        400,
        "cursor",
    )


def test_log_cursors_out_of_range_are_400_not_500(
    api: httpx.Client, finished_runs: list[str]
) -> None:
    run_id = finished_runs[0]
    for bad in ["99999999999999999999999", str(2**63), "-1", "\u0661\u0662", "1e3", "0x10"]:
        check_error(api.get("/logs", params={"taskRunId": run_id, "cursor": bad}), 400, "cursor")
    lines = api.get("/logs", params={"taskRunId": run_id, "limit": 100}).json()
    last = lines[-1]["cursor"]
    assert api.get("/logs", params={"taskRunId": run_id, "cursor": last}).json() == []


def test_stale_cursor_from_another_engine(
    api: httpx.Client, own_engine: EngineProcess, finished_runs: list[str]
) -> None:
    """A cursor is bound to its database: another engine refuses it, a restart keeps it."""
    own_engine.start()
    with httpx.Client(base_url=own_engine.base_url + "/v1") as other:
        for i in range(3):
            assert (
                other.post("/task-runs", json={"task": "square", "input": [i]}).status_code == 202
            )
        first = other.get("/task-runs", params={"limit": 2}).json()
        cursor = first[-1]["cursor"]
        check_error(api.get("/task-runs", params={"cursor": cursor}), 400, "cursor")
        own_engine.stop()
        own_engine.start()
        rest = other.get("/task-runs", params={"limit": 2, "cursor": cursor})
        assert rest.status_code == 200, rest.text
        ids = [item["taskRun"]["id"] for item in first + rest.json()]
        assert len(ids) == len(set(ids)) == 3


# --- a thousand ids in one events request -----------------------------------------------------


def _event_ids(answer: httpx.Response) -> list[str]:
    import json

    return [
        json.loads(line[len("data:") :])["id"]
        for line in answer.text.splitlines()
        if line.startswith("data:")
    ]


def test_a_thousand_ids_in_one_events_request(api: httpx.Client) -> None:
    ids = [api.post("/task-runs", json={"task": "noop"}).json()["id"] for _ in range(1000)]
    # Repeated parameters (the longest URL form, ~36 KB) and comma-joined: both served.
    repeated = api.get("/task-runs/events", params=[("taskRunIds", i) for i in ids], timeout=120)
    assert repeated.status_code == 200, repeated.text[:500]
    assert sorted(_event_ids(repeated)) == sorted(ids)
    joined = api.get("/task-runs/events", params={"taskRunIds": ",".join(ids)}, timeout=120)
    assert sorted(_event_ids(joined)) == sorted(ids)
    # One more distinct id is over the limit, and the message says what to do.
    over = ",".join([*ids, "trn-one-too-many"])
    check_error(api.get("/task-runs/events", params={"taskRunIds": over}), 400, "1000", "1001")
    # An unknown id among a thousand is named before the stream starts.
    unknown = ",".join([*ids[:999], "trn-not-a-run"])
    check_error(api.get("/task-runs/events", params={"taskRunIds": unknown}), 404, "trn-not-a-run")
    # The same id repeated counts once (the limit is on distinct runs): one event.
    same = api.get("/task-runs/events", params={"taskRunIds": ",".join([ids[0]] * 1500)})
    assert _event_ids(same) == [ids[0]]


# --- wrong auth forms -------------------------------------------------------------------------

ROUTES = [
    ("GET", "/task-runs"),
    ("POST", "/task-runs"),
    ("GET", "/task-runs/trn-x"),
    ("DELETE", "/task-runs/trn-x"),
    ("GET", "/task-runs/events?taskRunIds=trn-x"),
    ("GET", "/tasks"),
    ("GET", "/tasks/tsk-x"),
    ("GET", "/logs?taskRunId=trn-x"),
    ("GET", "/nowhere"),
]


def _wrong_forms(key: str) -> list[dict[str, str] | list[tuple[str, str]]]:
    return [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": key},
        {"Authorization": f"Basic {base64.b64encode(key.encode()).decode()}"},
        {"Authorization": f"Basic {base64.b64encode(f'user:{key}'.encode()).decode()}"},
        {"Authorization": f"Token {key}"},
        {"Authorization": f"Bearer {key[:-1]}"},
        {"Authorization": f"Bearer {key}x"},
        {"Authorization": f"Bearer {key.upper()}"},
        {"Authorization": f"Bearer {key} {key}"},
        {"Authorization": f"Bearer{key}"},
        {"X-API-Key": key},
        {"Cookie": f"token={key}"},
        [("Authorization", "Bearer wrong"), ("Authorization", f"Bearer {key}")],
    ]


def test_every_wrong_auth_form_is_401_on_every_route(
    secured_engine: EngineProcess, api_key: str
) -> None:
    with httpx.Client(base_url=secured_engine.base_url + "/v1") as bare:
        for method, path in ROUTES:
            for headers in _wrong_forms(api_key):
                answer = bare.request(method, path, headers=headers, json=None)
                check_error(answer, 401)
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert api_key not in answer.text
            answer = bare.request(method, f"{path}{'&' if '?' in path else '?'}apiKey={api_key}")
            check_error(answer, 401)


def test_right_key_forms_are_accepted(secured_engine: EngineProcess, api_key: str) -> None:
    """The scheme is case-insensitive (RFC 9110) and surrounding spaces are ignored."""
    with httpx.Client(base_url=secured_engine.base_url + "/v1") as bare:
        for value in (f"Bearer {api_key}", f"bearer {api_key}", f"BEARER {api_key}"):
            assert bare.get("/tasks", headers={"Authorization": value}).status_code == 200


# --- repeated and oversized parameters -----------------------------------------------------------


def test_repeated_or_empty_scalar_parameters_are_refused(api: httpx.Client) -> None:
    for path in ("/task-runs", "/tasks"):
        check_error(api.get(path, params=[("limit", "5"), ("limit", "7")]), 400, "limit", "once")
        check_error(api.get(path, params={"limit": ""}), 400, "limit")
        check_error(api.get(path, params=[("cursor", "a"), ("cursor", "b")]), 400, "cursor")
    check_error(
        api.get("/logs", params=[("taskRunId", "trn-a"), ("taskRunId", "trn-b")]), 400, "taskRunId"
    )


def test_request_line_over_the_server_limit(secured_engine: EngineProcess) -> None:
    """A 70 KB request line is refused with a 4xx, and the engine keeps serving.

    Which 4xx depends on uvicorn's HTTP parser: httptools stops at its line limit (plain-text
    400), h11 reads the line and the request then fails auth like any other (JSON 401).
    """
    import socket

    target = b"/v1/task-runs/events?taskRunIds=" + b"x" * 70_000
    with socket.create_connection(("127.0.0.1", secured_engine.port), timeout=30) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if answer.startswith(b"HTTP/1.1 400 "):
        assert answer.endswith(b"Invalid HTTP request received.")
    else:
        assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
        assert b'"id":"unauthorized"' in answer
    with httpx.Client(base_url=secured_engine.base_url + "/v1") as bare:
        assert bare.get("/tasks").status_code == 401  # still serving
