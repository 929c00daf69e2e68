"""Where the client connects and with which key, from its arguments and the environment.

Order of the base URL: ``RENDER_LOCAL_DEV_URL`` if set; else ``http://localhost:8120`` if
``RENDER_USE_LOCAL_DEV`` is truthy (``1``, ``t``, ``true``, any case); else the ``base_url``
argument (default ``https://api.render.com``). A URL without a scheme gets ``https://``, and ``/v1``
is appended (unless the URL already ends with it). The key is the ``token`` argument or
``RENDER_API_KEY``. A local engine needs no key; the hosted API does.

    >>> resolve_settings(None, "http://127.0.0.1:8120", environ={}).api_url
    'http://127.0.0.1:8120/v1'
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from render_sdk._useragent import USER_AGENT
from render_sdk.client import _constants as C
from render_sdk.client.errors import ConfigurationError


@attrs.frozen
class Settings:
    """The resolved connection settings of one client."""

    api_url: str  # ends with /v1
    token: str | None
    local: bool

    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in C.TRUTHY


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (localhost, 127.0.0.0/8, ::1).

    >>> is_loopback("http://localhost:8120"), is_loopback("https://api.render.com")
    (True, False)
    """
    return is_loopback_name((urlsplit(url).hostname or "").lower())


def is_loopback_name(name: str) -> bool:
    """True when the host name ``name`` always means this machine: ``localhost``,
    ``*.localhost``, 127.0.0.0/8, ``::1``.

    >>> is_loopback_name("x.localhost"), is_loopback_name("localhost.example.com")
    (True, False)
    """
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str) -> str:
    """Add ``https://`` when there is no scheme and append ``/v1``.

    >>> normalize_base_url("api.example.com/")
    'https://api.example.com/v1'
    """
    url = url.strip()
    if not url:
        raise ConfigurationError("the base URL is empty")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"the base URL {url!r} is not an http(s) URL with a host")
    url = url.rstrip("/")
    if not url.endswith(C.API_PREFIX):
        url += C.API_PREFIX
    return url


def resolve_settings(
    token: str | None,
    base_url: str | None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings of a client built with ``token`` and ``base_url`` in ``environ``.

    Raises :class:`ConfigurationError` when the hosted API would be called without a key.

        settings = resolve_settings(None, None)  # reads os.environ
    """
    env = os.environ if environ is None else environ
    local_url = env.get(C.ENV_LOCAL_DEV_URL, "").strip()
    if local_url:
        url, local = local_url, True
    elif _truthy(env.get(C.ENV_USE_LOCAL_DEV)):
        url, local = C.LOCAL_DEV_URL, True
    else:
        url = base_url if base_url is not None else C.DEFAULT_BASE_URL
        local = False
    api_url = normalize_base_url(url)
    local = local or is_loopback(api_url)
    key = token if token else (env.get(C.ENV_API_KEY, "").strip() or None)
    if key is None and not local:
        raise ConfigurationError(
            f"no API key for {api_url}: pass token=... or set {C.ENV_API_KEY}. "
            f"For the local engine, set {C.ENV_USE_LOCAL_DEV}=1 or {C.ENV_LOCAL_DEV_URL}."
        )
    return Settings(api_url=api_url, token=key, local=local)
