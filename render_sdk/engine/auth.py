"""Bearer-token check for the local engine's REST API.

When the engine has an API key, every request must carry ``Authorization: Bearer <key>``; anything
else gets ``401`` with the contract's error body. The comparison takes constant time and the key is
never logged or echoed.

    app = BearerAuth(inner_app, api_key="s3cret")
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from render_sdk.engine.serialize import error

_BODY_MISSING = error(
    "unauthorized",
    "this engine requires an API key: send the header 'Authorization: Bearer <key>'",
)
_BODY_WRONG = error("unauthorized", "the API key in the Authorization header is not valid")


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if bearer_matches(header, self._key):
            await self.app(scope, receive, send)
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
