"""Bearer-token check for the local engine's REST API and its pages.

When the engine has an API key, every request must carry ``Authorization: Bearer <key>``, or the
inspector's session cookie (set by its login form: ``HttpOnly``, ``SameSite=Strict``, holding a
token derived from the key, never the key); anything else gets ``401`` with the contract's error
body, or for a page a redirect to ``/login``. The comparison takes constant time and the key is
never logged or echoed.

    app = BearerAuth(inner_app, api_key="s3cret")
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from render_sdk.engine.serialize import error

_BODY_MISSING = error(
    "unauthorized",
    "this engine requires an API key: send the header 'Authorization: Bearer <key>'",
)
_BODY_WRONG = error("unauthorized", "the API key in the Authorization header is not valid")


SESSION_COOKIE = "render_workflows_session"
_OPEN_PATHS = ("/login", "/static/")


def session_token(api_key: str) -> str:
    """The inspector's session cookie value for ``api_key`` (a keyed hash, not the key)."""
    return hmac.new(
        api_key.encode("utf-8"), b"render-workflows inspector session", hashlib.sha256
    ).hexdigest()


def _cookie_token(header: bytes) -> bytes | None:
    for part in header.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode():
            return value
    return None


def bearer_matches(header: bytes | None, key: bytes) -> bool:
    """Whether an ``Authorization`` header value carries ``Bearer <key>`` (constant time).

    >>> bearer_matches(b"Bearer abc", b"abc")
    True
    """
    if header is None:
        return False
    scheme, _, token = header.partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(token.strip(), key)


class BearerAuth:
    """ASGI wrapper that answers ``401`` unless the request carries the right bearer token.

    Example: ``BearerAuth(app, api_key="k")`` lets ``Authorization: Bearer k`` through.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self.app = app
        self._key = api_key.encode("utf-8")
        self._session = session_token(api_key).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header: bytes | None = None
        cookie: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if header is None:  # only the first counts: a second one cannot fix a wrong one
                    header = value
            elif name == b"cookie" and cookie is None:
                cookie = _cookie_token(value)
        if bearer_matches(header, self._key) or (
            cookie is not None and hmac.compare_digest(cookie, self._session)
        ):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith("/v1/"):
            if path.startswith(_OPEN_PATHS):
                await self.app(scope, receive, send)
                return
            if scope["method"] in ("GET", "HEAD"):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [(b"location", b"/login"), (b"content-length", b"0")],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        body = _BODY_MISSING if header is None else _BODY_WRONG
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="render-workflows"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
