"""What keeps web pages from driving an engine that listens on this machine (docs/inspector.md).

A developer's browser can reach a loopback engine, and so can any page it opens. Two checks
make such pages powerless, for the REST API and the inspector's pages alike:

* **Host** (DNS rebinding): a page on ``evil.example`` whose name is made to resolve to
  127.0.0.1 talks to the engine as a same-origin page of ``evil.example``, so its requests carry
  ``Host: evil.example:8120``. Only this machine's names (``localhost``, ``*.localhost``,
  loopback addresses) and the names given in ``allowed_hosts`` are served; anything else is
  ``403``.
* **Origin** (CSRF): a browser names the page that sends a request in ``Origin`` (and
  ``Sec-Fetch-Site``). A request that changes state (any method but GET, HEAD and OPTIONS) from
  another origin is ``403``. Programs that are not browsers send neither header and pass.

The engine sends no CORS headers at all, so other origins cannot read its answers either.

    app = BrowserGuard(app, allowed_hosts=loopback_hosts())
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from render_sdk.client._config import is_loopback_name
from render_sdk.engine.serialize import error

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE = frozenset({b"same-origin", b"none"})


def loopback_hosts() -> frozenset[str]:
    """The names of this machine that are always served."""
    return frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(host: str) -> str:
    """The name part of a ``Host`` header, lower-cased, without its port or IPv6 brackets.

    >>> host_name("LocalHost:8120"), host_name("[::1]:8120"), host_name("example.com")
    ('localhost', '::1', 'example.com')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


# Whether a host name always means this machine (a browser resolves such names itself).
is_local_name = is_loopback_name


class BrowserGuard:
    """ASGI wrapper refusing requests for other host names and cross-origin state changes.

    ``allowed_hosts`` None serves every ``Host`` (an engine on a public address, which then needs
    an API key); otherwise the names in it and this machine's names. The Origin check holds in
    both cases.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] | None) -> None:
        self.app = app
        self.allowed = (
            None
            if allowed_hosts is None
            else frozenset(host_name(h) for h in allowed_hosts) | loopback_hosts()
        )
        self._hosts: dict[bytes, bool] = {}

    def _host_allowed(self, host: bytes) -> bool:
        """Whether ``host`` (a Host header) is served; answers are kept for the next requests."""
        known = self._hosts.get(host)
        if known is None:
            name = host_name(host.decode("latin-1"))
            known = self.allowed is None or name in self.allowed or is_local_name(name)
            if len(self._hosts) < 256:
                self._hosts[host] = known
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        safe = scope["method"] in _SAFE_METHODS
        host: bytes | None = None
        origin: bytes | None = None
        fetch_site: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                if safe:
                    break
            elif name == b"origin":
                origin = value
            elif name == b"sec-fetch-site":
                fetch_site = value
        if host is not None and not self._host_allowed(host):
            await _refuse(
                send,
                f"this engine does not serve the host name {host_name(host.decode('latin-1'))!r}: "
                "only this machine's names (localhost, 127.0.0.1, ::1) and the names given with "
                "--allowed-host",
            )
            return
        if not safe:
            if origin is not None:
                scheme = scope.get("scheme", "http")
                host_text = host.decode("latin-1") if host is not None else ""
                if origin.decode("latin-1").lower() != f"{scheme}://{host_text}".lower():
                    await _refuse(
                        send,
                        f"a page of another origin ({origin.decode('latin-1')}) may not "
                        "change anything on this engine",
                    )
                    return
            elif fetch_site is not None and fetch_site not in _SAME_SITE:
                await _refuse(
                    send,
                    f"a {fetch_site.decode('latin-1')} page may not change anything on this engine",
                )
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, message: str) -> None:
    body = error("forbidden", message)
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
