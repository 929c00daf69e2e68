"""The client entry points: :class:`Render` (blocking) and :class:`RenderAsync`.

Both share the configuration rules of :mod:`render_sdk.client._config` and reuse one HTTP
connection pool (keep-alive) per client. Both send through httpx's own transports, except to a
local engine (plain HTTP on a loopback address): there the async client uses
:class:`~render_sdk.client._localtransport.LocalEngineTransport` and the blocking one
:class:`~render_sdk.client._localtransport_sync.LocalEngineBlockingTransport`; ``transport=``
overrides either.

    with Render() as render:
        print(render.workflows.run_task("my-workflow/square", [3]).result)
"""

from __future__ import annotations

import http.cookiejar
from types import TracebackType
from typing import Any

import httpx
from render_api import Client

from render_sdk.client import _constants as C
from render_sdk.client._async import AsyncWorkflows
from render_sdk.client._base import WorkflowsCore, araise_error_answers, raise_error_answers
from render_sdk.client._config import Settings, is_loopback, resolve_settings
from render_sdk.client._localtransport import LocalEngineTransport
from render_sdk.client._localtransport_sync import LocalEngineBlockingTransport
from render_sdk.client._retry import RetryPolicy
from render_sdk.client._sync import Workflows
from render_sdk.client.errors import ConfigurationError

__all__ = ["Render", "RenderAsync"]


def _core(
    token: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    reconnect_patience: float,
) -> WorkflowsCore:
    if not timeout > 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if (
        isinstance(reconnect_patience, bool)
        or not isinstance(reconnect_patience, (int, float))
        or not reconnect_patience >= 0
    ):
        raise ConfigurationError(
            f"reconnect_patience must be a number of seconds >= 0, got {reconnect_patience!r}"
        )
    settings = resolve_settings(token, base_url)
    policy = RetryPolicy(max_retries=max_retries, reconnect_patience=float(reconnect_patience))
    return WorkflowsCore(settings, policy, timeout)


def _local_engine(settings: Settings) -> bool:
    """True when the API is a local engine: plain HTTP on a loopback address."""
    return settings.api_url.startswith("http://") and is_loopback(settings.api_url)


def default_async_transport(settings: Settings) -> httpx.AsyncBaseTransport | None:
    """The async client's transport when none is given: :class:`LocalEngineTransport` for a
    local engine, else None (httpx's own)."""
    return LocalEngineTransport() if _local_engine(settings) else None


def default_sync_transport(settings: Settings) -> httpx.BaseTransport | None:
    """The blocking client's transport when none is given: :class:`LocalEngineBlockingTransport`
    for a local engine, else None (httpx's own)."""
    return LocalEngineBlockingTransport() if _local_engine(settings) else None


class NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: the API authenticates by bearer token and sets no
    cookies, and httpx's default jar parses every answer's headers looking for some."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


def _limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=C.MAX_CONNECTIONS, max_keepalive_connections=C.MAX_KEEPALIVE_CONNECTIONS
    )


class Render:
    """The blocking client of the Render Workflows API (or of a local engine).

    ``token`` defaults to ``RENDER_API_KEY``; ``base_url`` to ``https://api.render.com``, and
    ``RENDER_LOCAL_DEV_URL`` / ``RENDER_USE_LOCAL_DEV`` point it at a local engine instead.
    ``timeout`` is per HTTP request (seconds). ``max_retries`` bounds the retries of a request
    that failed transiently before reaching the server (connection refused, 429, 5xx);
    ``reconnect_patience`` is how many seconds a wait for a run (``run_task``, an event stream)
    keeps reconnecting after losing a server it had reached, e.g. a restarting local engine.
    ``transport`` replaces the transport (by default httpx's own, or for a local engine a lean
    keep-alive one: docs/client.md, "Transports"). It runs no event loop, so it is safe in any
    thread.

        with Render() as render:
            details = render.workflows.run_task("my-workflow/square", [3])
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = C.DEFAULT_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        reconnect_patience: float = C.DEFAULT_RECONNECT_PATIENCE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        core = _core(token, base_url, timeout, max_retries, reconnect_patience)
        self._settings: Settings = core.settings
        self._http = httpx.Client(
            base_url=core.settings.api_url,
            headers=core.settings.headers(),
            timeout=timeout,
            limits=_limits(),
            transport=transport if transport is not None else default_sync_transport(core.settings),
            cookies=NoCookies(),
            event_hooks={"response": [raise_error_answers]},
        )
        api_client = Client(base_url=core.settings.api_url).set_httpx_client(self._http)
        self.workflows = Workflows(api_client, self._http, core)

    @property
    def base_url(self) -> str:
        """The API URL requests go to, ending in ``/v1``."""
        return self._settings.api_url

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Render:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Render(base_url={self.base_url!r})"


class RenderAsync:
    """The async client of the Render Workflows API (or of a local engine).

    Arguments and configuration are those of :class:`Render`. Without ``transport``, a local
    engine (plain HTTP on a loopback address) is reached through
    :class:`~render_sdk.client._localtransport.LocalEngineTransport`, anything else through
    httpx's own transport.

        async with RenderAsync() as render:
            details = await render.workflows.run_task("my-workflow/square", [3])
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = C.DEFAULT_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        reconnect_patience: float = C.DEFAULT_RECONNECT_PATIENCE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        core = _core(token, base_url, timeout, max_retries, reconnect_patience)
        self._settings: Settings = core.settings
        self._http = httpx.AsyncClient(
            base_url=core.settings.api_url,
            headers=core.settings.headers(),
            timeout=timeout,
            limits=_limits(),
            transport=transport
            if transport is not None
            else default_async_transport(core.settings),
            cookies=NoCookies(),
            event_hooks={"response": [araise_error_answers]},
        )
        api_client = Client(base_url=core.settings.api_url).set_async_httpx_client(self._http)
        self.workflows = AsyncWorkflows(api_client, self._http, core)

    @property
    def base_url(self) -> str:
        """The API URL requests go to, ending in ``/v1``."""
        return self._settings.api_url

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> RenderAsync:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"RenderAsync(base_url={self.base_url!r})"
