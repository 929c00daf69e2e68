"""Exceptions raised by the REST client.

    RenderError                   the root: catch it to handle every client error
    ├── ConfigurationError        bad client settings (also a ValueError)
    ├── InputError                the input cannot be sent as JSON; nothing was sent (a ValueError)
    ├── ClientError               the API refused the request (HTTP 4xx)
    │   └── RateLimitError        HTTP 429; ``retry_after`` seconds, when the server said
    ├── ServerError               HTTP 5xx, or the API could not be reached at all
    ├── TimeoutError              a request or a wait took too long (also builtins.TimeoutError)
    └── TaskRunError              the awaited run failed or was canceled

Every error carries ``operation`` (the client method, e.g. ``"get_task_run"``), ``status_code``
(None when no HTTP answer arrived), and the server's ``server_message`` and ``error_id`` when it
sent them. :func:`error_from_response` is the only place an HTTP status becomes an exception.

    try:
        render.workflows.get_task_run("trn-unknown")
    except ClientError as exc:
        print(exc.status_code, exc.error_id, exc.server_message)
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from render_sdk.client.types import TaskRunDetails

__all__ = [
    "ClientError",
    "ConfigurationError",
    "InputError",
    "RateLimitError",
    "RenderError",
    "ServerError",
    "TaskRunError",
    "TimeoutError",
    "error_from_response",
]


class RenderError(Exception):
    """The root of every error this client raises.

    try:
        render.workflows.run_task("wf/square", [2])
    except RenderError as exc:
        print(exc.operation, exc)
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status_code: int | None = None,
        server_message: str | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status_code = status_code
        self.server_message = server_message
        self.error_id = error_id
        # The machine-readable code Render puts on some errors (its Error.code); None if absent.
        self.code = code
        # Seconds the server asked to wait before trying again (Retry-After), if it did.
        self.retry_after = retry_after


class ConfigurationError(RenderError, ValueError):
    """The client's settings are incomplete or invalid, e.g. no API key for the hosted API.

    Render(base_url="https://api.render.com")  # without RENDER_API_KEY: ConfigurationError
    """


class InputError(RenderError, ValueError):
    """A run's input cannot be sent as JSON (a set, bytes, a datetime, NaN...): raised before any
    request, so no run was started. ``path`` says where the value sits (``input_data[0]['when']``).

        except InputError as exc:
            print(exc.path, exc)
    """

    def __init__(self, message: str, *, path: str, operation: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.path = path


class ClientError(RenderError):
    """The API refused the request (HTTP 4xx): unknown run or task, bad input, bad API key...

    except ClientError as exc:
        if exc.status_code == 404: ...
    """


class RateLimitError(ClientError):
    """The API rate-limited the request (HTTP 429) after the client's retries ran out.

    except RateLimitError as exc:
        time.sleep(exc.retry_after or 1)
    """


class ServerError(RenderError):
    """The API failed (HTTP 5xx) or could not be reached (``status_code`` is None).

    except ServerError as exc:
        print("try again later:", exc)
    """


class TimeoutError(RenderError, builtins.TimeoutError):
    """A request, or a wait for a run, took longer than allowed.

    It is also a :class:`builtins.TimeoutError`, so ``except TimeoutError`` catches it either way.

        except render_sdk.client.errors.TimeoutError: ...
    """


class TaskRunError(RenderError):
    """The run finished without success: it failed or was canceled.

    ``task_run_id`` names the run, ``error`` is the run's error text (None if it has none, e.g.
    when canceled), and ``details`` the run's final :class:`TaskRunDetails`.

        try:
            render.workflows.run_task("wf/divide", [1, 0])
        except TaskRunError as exc:
            print(exc.task_run_id, exc.details.status, exc.error)
    """

    def __init__(self, details: TaskRunDetails, *, operation: str | None = None) -> None:
        status = str(details.status)
        reason = f": {details.error}" if details.error else ""
        super().__init__(f"task run {details.id} {status}{reason}", operation=operation)
        self.task_run_id = details.id
        self.error = details.error
        self.details = details


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or None.

    >>> parse_retry_after("3")
    3.0
    """
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def _server_error_body(body: bytes) -> tuple[str | None, str | None, str | None]:
    """The ``(message, id, code)`` of an ``{"id", "message", "code"?}`` body; the raw text as
    the message if it is not one."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return (text[:500] or None), None, None
    if isinstance(data, dict):
        message, error_id, code = (data.get(k) for k in ("message", "id", "code"))
        return (
            message if isinstance(message, str) else None,
            error_id if isinstance(error_id, str) else None,
            code if isinstance(code, str) else None,
        )
    return (text[:500] or None), None, None


def error_from_response(
    operation: str, status_code: int, body: bytes, headers: Mapping[str, str]
) -> RenderError:
    """The exception for an HTTP error answer: the one status-to-exception mapping.

    >>> error_from_response("get_task_run", 404, b'{"id":"not_found","message":"no"}', {})
    ClientError('get_task_run failed with HTTP 404: no (error id not_found)')
    """
    server_message, error_id, code = _server_error_body(body)
    text = f"{operation} failed with HTTP {status_code}"
    if server_message:
        text += f": {server_message}"
    if error_id:
        text += f" (error id {error_id})"
    retry_after = parse_retry_after(headers.get("retry-after"))
    cls: type[RenderError]
    if status_code == 429:
        cls = RateLimitError
    elif 400 <= status_code < 500:
        cls = ClientError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = RenderError
        text = f"{operation}: unexpected HTTP {status_code}"
    return cls(
        text,
        operation=operation,
        status_code=status_code,
        server_message=server_message,
        error_id=error_id,
        retry_after=retry_after,
        code=code,
    )
