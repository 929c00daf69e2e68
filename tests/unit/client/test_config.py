"""Base URL and API key selection, from arguments and the environment."""

from __future__ import annotations

import re

import httpx
import pytest

from render_sdk._useragent import USER_AGENT
from render_sdk.client import Render, RenderAsync
from render_sdk.client._config import resolve_settings
from render_sdk.client.errors import ConfigurationError, RenderError

from .conftest import FakeAPI, run_payload


@pytest.mark.parametrize(
    ("env", "base_url", "expected"),
    [
        ({"RENDER_LOCAL_DEV_URL": "http://127.0.0.1:9000"}, None, "http://127.0.0.1:9000/v1"),
        (
            {"RENDER_LOCAL_DEV_URL": "http://127.0.0.1:9000", "RENDER_USE_LOCAL_DEV": "1"},
            "https://example.com",
            "http://127.0.0.1:9000/v1",
        ),
        ({"RENDER_USE_LOCAL_DEV": "1"}, "https://example.com", "http://localhost:8120/v1"),
        ({"RENDER_USE_LOCAL_DEV": "t"}, None, "http://localhost:8120/v1"),
        ({"RENDER_USE_LOCAL_DEV": "TRUE"}, None, "http://localhost:8120/v1"),
        ({"RENDER_USE_LOCAL_DEV": "True"}, None, "http://localhost:8120/v1"),
        ({"RENDER_USE_LOCAL_DEV": "0", "RENDER_API_KEY": "k"}, None, "https://api.render.com/v1"),
        ({"RENDER_USE_LOCAL_DEV": "yes", "RENDER_API_KEY": "k"}, None, "https://api.render.com/v1"),
        ({"RENDER_API_KEY": "k"}, None, "https://api.render.com/v1"),
        ({"RENDER_API_KEY": "k"}, "api.example.com", "https://api.example.com/v1"),
        ({"RENDER_API_KEY": "k"}, "https://api.example.com/", "https://api.example.com/v1"),
        ({"RENDER_API_KEY": "k"}, "https://api.example.com/v1", "https://api.example.com/v1"),
        ({}, "http://localhost:8120", "http://localhost:8120/v1"),
    ],
)
def test_base_url_selection(env: dict[str, str], base_url: str | None, expected: str) -> None:
    assert resolve_settings(None, base_url, environ=env).api_url == expected


def test_hosted_api_without_key_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="RENDER_API_KEY"):
        Render()
    with pytest.raises(
        ConfigurationError, match=re.escape("no API key for https://api.render.com/v1")
    ):
        RenderAsync(base_url="https://api.render.com")


@pytest.mark.parametrize(
    "env_or_url",
    [
        {"RENDER_USE_LOCAL_DEV": "1"},
        {"RENDER_LOCAL_DEV_URL": "http://10.0.0.5:8120"},
        "http://127.0.0.1:8120",
        "http://[::1]:8120",
        "http://localhost",
    ],
)
def test_local_engine_needs_no_key(env_or_url: dict[str, str] | str) -> None:
    env = env_or_url if isinstance(env_or_url, dict) else {}
    url = env_or_url if isinstance(env_or_url, str) else None
    settings = resolve_settings(None, url, environ=env)
    assert settings.local and settings.token is None
    assert "Authorization" not in settings.headers()


def test_token_argument_wins_over_env() -> None:
    settings = resolve_settings("arg", None, environ={"RENDER_API_KEY": "env"})
    assert settings.headers()["Authorization"] == "Bearer arg"
    assert resolve_settings(None, None, environ={"RENDER_API_KEY": "env"}).token == "env"


def test_key_is_sent_to_a_local_engine_when_given() -> None:
    settings = resolve_settings(
        None, None, environ={"RENDER_USE_LOCAL_DEV": "1", "RENDER_API_KEY": "k"}
    )
    assert settings.headers()["Authorization"] == "Bearer k"


@pytest.mark.parametrize("url", ["ftp://host", "https://", "   "])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_settings("k", url, environ={})


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"timeout": 0}, "timeout"), ({"max_retries": -1}, "max_retries")]
)
def test_bad_options(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Render(base_url="http://127.0.0.1:1", **kwargs)  # type: ignore[arg-type]


def test_configuration_error_is_a_render_error_and_value_error() -> None:
    assert issubclass(ConfigurationError, RenderError)
    assert issubclass(ConfigurationError, ValueError)


def test_requests_carry_user_agent_auth_and_reach_v1(
    fake: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDER_API_KEY", "secret")
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload()))
    with Render(base_url="api.example.com", transport=httpx.MockTransport(fake)) as render:
        assert render.base_url == "https://api.example.com/v1"
        render.workflows.start_task("wf/square", [3])
    (request,) = fake.requests
    assert str(request.url) == "https://api.example.com/v1/task-runs"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["authorization"] == "Bearer secret"


def test_env_local_dev_url_is_used(fake: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", "http://127.0.0.1:9999")
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload()))
    with Render(transport=httpx.MockTransport(fake)) as render:
        render.workflows.start_task("square")
    assert str(fake.requests[0].url) == "http://127.0.0.1:9999/v1/task-runs"
    assert "authorization" not in fake.requests[0].headers


def test_the_clients_keep_no_cookies() -> None:
    """The API authenticates by bearer token; a Set-Cookie from a server is not kept or sent."""
    answers = [httpx.Response(200, json=[], headers={"Set-Cookie": "session=abc; Path=/"})] * 2
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[len(seen) - 1]

    with Render(base_url="http://127.0.0.1:8120", transport=httpx.MockTransport(handler)) as render:
        render.workflows.list_tasks()
        render.workflows.list_tasks()
    assert "cookie" not in seen[1].headers
