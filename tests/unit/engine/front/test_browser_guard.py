"""Web pages cannot drive a loopback engine: DNS rebinding, CSRF, cross-site text bodies, CORS."""

from __future__ import annotations

import httpx
import pytest

from render_sdk.engine.browser_guard import host_name, is_local_name
from render_sdk.engine.embedded import LocalEngine, served_hosts

from .conftest import Served
from .fake_core import FakeCore
from .test_rest import check_error

START = {"task": "square", "input": [2]}


def port(served: Served) -> int:
    return served.engine.port


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}"])
async def test_other_host_names_are_refused(served: Served, host: str) -> None:
    """A DNS-rebinding page sends its own name as Host: it can neither read nor start runs."""
    headers = {"Host": host.format(port=port(served))}
    await served.core.start_run(served.core.tasks[0], [1])
    for method, path in [
        ("GET", "/v1/task-runs"),
        ("GET", "/v1/tasks"),
        ("POST", "/v1/task-runs"),
        ("GET", "/"),
    ]:
        answer = await served.http.request(method, path, headers=headers, json=START)
        check_error(answer, 403, "forbidden", "host name", "--allowed-host")
        assert "trn-" not in answer.text
    assert len(served.core.runs) == 1


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST", "app.localhost:{port}"]
)
async def test_this_machines_names_are_served(served: Served, host: str) -> None:
    answer = await served.http.get("/v1/tasks", headers={"Host": host.format(port=port(served))})
    assert answer.status_code == 200


async def test_allowed_hosts_are_served() -> None:
    async with LocalEngine(core=FakeCore(), allowed_hosts=["dev.test"]) as engine:
        async with httpx.AsyncClient(base_url=engine.base_url, timeout=10) as http:
            assert (await http.get("/v1/tasks", headers={"Host": "dev.test:1"})).status_code == 200
            refused = await http.get("/v1/tasks", headers={"Host": "other.test"})
            check_error(refused, 403, "forbidden", "'other.test'")


def test_host_names() -> None:
    assert host_name("[::1]:80") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("Example.COM:8120") == "example.com"
    assert is_local_name("127.3.4.5") and is_local_name("x.localhost")
    assert not is_local_name("localhost.evil.example") and not is_local_name("10.0.0.1")
    assert served_hosts("0.0.0.0") is None  # a public engine requires an API key instead
    assert served_hosts("0.0.0.0", ["box.lan"]) == {
        "localhost",
        "127.0.0.1",
        "::1",
        "box.lan",
        "0.0.0.0",
    }


async def test_a_cross_site_text_plain_post_starts_nothing(served: Served) -> None:
    """What a page on any site can send without a preflight: a text/plain POST."""
    body = b'{"task": "square", "input": [2]}'
    for headers in [
        {"Origin": "https://evil.example", "Content-Type": "text/plain"},
        {"Origin": "null", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
    ]:
        answer = await served.http.post("/v1/task-runs", content=body, headers=headers)
        check_error(answer, 403, "forbidden", "may not change anything")
    assert served.core.runs == {}


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_bodies_that_are_not_json_are_refused(
    served: Served, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await served.http.post(
        "/v1/task-runs", content=b'{"task": "square", "input": [2]}', headers=headers
    )
    check_error(answer, 415, "unsupported_media_type", "Content-Type: application/json")
    assert served.core.runs == {}


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"]
)
async def test_json_bodies_pass(served: Served, content_type: str) -> None:
    answer = await served.http.post(
        "/v1/task-runs",
        content=b'{"task": "square", "input": [2]}',
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == 202


async def test_cross_origin_cancel_is_refused(served: Served) -> None:
    run = await served.core.start_run(served.core.tasks[0], [1])
    answer = await served.http.delete(
        f"/v1/task-runs/{run.id}", headers={"Origin": "http://evil.example"}
    )
    check_error(answer, 403, "forbidden", "http://evil.example")
    assert served.core.runs[run.id].status.value == "pending"


async def test_same_origin_pages_may_change_state(served: Served) -> None:
    origin = served.engine.base_url
    answer = await served.http.post(
        "/v1/task-runs", json=START, headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code == 202
    run_id = answer.json()["id"]
    answer = await served.http.delete(f"/v1/task-runs/{run_id}", headers={"Origin": origin})
    assert answer.status_code == 204


async def test_a_page_of_the_same_host_on_another_port_is_another_origin(served: Served) -> None:
    answer = await served.http.post(
        "/v1/task-runs", json=START, headers={"Origin": "http://127.0.0.1:1"}
    )
    check_error(answer, 403, "forbidden")
    assert served.core.runs == {}


async def test_no_cors(served: Served) -> None:
    """No answer lets another origin read it, a preflight included."""
    origin = {"Origin": "https://evil.example"}
    preflight = await served.http.options(
        "/v1/task-runs",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code >= 400
    for answer in [preflight, await served.http.get("/v1/task-runs", headers=origin)]:
        assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_the_command_line_takes_allowed_hosts() -> None:
    from render_sdk.engine.cli import parse_args

    options = parse_args(["--allowed-host", "a.test", "--allowed-host", "b.test", "main:app"])
    assert options.allowed_hosts == ("a.test", "b.test")
    assert parse_args(["main:app"]).allowed_hosts == ()
