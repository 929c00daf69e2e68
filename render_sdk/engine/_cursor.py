"""Opaque, tamper-evident pagination cursors for run listings.

A cursor names the position of the last item of a page (the run's insertion sequence number) and
carries a MAC made with a key kept in the store, so a forged or damaged cursor is refused with a
clear message instead of silently skipping runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from render_sdk.engine.records import InvalidRequest

_VERSION = "r1"


def encode_cursor(position: int, key: bytes) -> str:
    """Encode ``position`` into an opaque cursor.

    >>> decode_cursor(encode_cursor(42, b"k"), b"k")
    42
    """
    body = f"{_VERSION}.{position}"
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:12]
    raw = body.encode() + b"." + mac
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: bytes) -> int:
    """Return the position inside ``cursor``; :class:`InvalidRequest` if it is not one of ours.

    >>> decode_cursor("nonsense", b"k")
    Traceback (most recent call last):
    ...
    render_sdk.engine.records.InvalidRequest: invalid cursor 'nonsense': ...
    """
    problem = "not a cursor returned by this engine"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        version, position_text, mac = raw.split(b".", 2)
        body = version + b"." + position_text
        expected = hmac.new(key, body, hashlib.sha256).digest()[:12]
        if version.decode() == _VERSION and hmac.compare_digest(mac, expected):
            position = int(position_text.decode())
            if position >= 0:
                return position
    except (ValueError, UnicodeError, binascii.Error):
        pass
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "..."
    raise InvalidRequest(f"invalid cursor {shown!r}: {problem}")
