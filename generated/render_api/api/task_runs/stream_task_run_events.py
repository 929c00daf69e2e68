from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    task_run_ids: list[str],
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    json_task_run_ids = task_run_ids

    params["taskRunIds"] = json_task_run_ids

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/task-runs/events",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    task_run_ids: list[str],
    last_event_id: str | Unset = UNSET,
) -> Response[Error | str]:
    """Stream an event for each run as it reaches a terminal state

     A Server-Sent Events stream. It starts with a `retry: <ms>` line, sends `: ping` comments
    while idle, and one event per requested run when that run is terminal:

        id: <monotonic id>
        event: task.completed
        data: <TaskRunDetails JSON on one line>

    Render names every terminal event `task.completed`; clients also accept `task.succeeded`,
    `task.failed` and `task.canceled` and read the outcome from the data's `status`. A run
    that is already terminal when the stream opens still produces its event. A reconnecting
    client sends `Last-Event-ID` to skip events it already has.

    Args:
        task_run_ids (list[str]):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | str]
    """

    kwargs = _get_kwargs(
        task_run_ids=task_run_ids,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    task_run_ids: list[str],
    last_event_id: str | Unset = UNSET,
) -> Error | str | None:
    """Stream an event for each run as it reaches a terminal state

     A Server-Sent Events stream. It starts with a `retry: <ms>` line, sends `: ping` comments
    while idle, and one event per requested run when that run is terminal:

        id: <monotonic id>
        event: task.completed
        data: <TaskRunDetails JSON on one line>

    Render names every terminal event `task.completed`; clients also accept `task.succeeded`,
    `task.failed` and `task.canceled` and read the outcome from the data's `status`. A run
    that is already terminal when the stream opens still produces its event. A reconnecting
    client sends `Last-Event-ID` to skip events it already has.

    Args:
        task_run_ids (list[str]):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | str
    """

    return sync_detailed(
        client=client,
        task_run_ids=task_run_ids,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    task_run_ids: list[str],
    last_event_id: str | Unset = UNSET,
) -> Response[Error | str]:
    """Stream an event for each run as it reaches a terminal state

     A Server-Sent Events stream. It starts with a `retry: <ms>` line, sends `: ping` comments
    while idle, and one event per requested run when that run is terminal:

        id: <monotonic id>
        event: task.completed
        data: <TaskRunDetails JSON on one line>

    Render names every terminal event `task.completed`; clients also accept `task.succeeded`,
    `task.failed` and `task.canceled` and read the outcome from the data's `status`. A run
    that is already terminal when the stream opens still produces its event. A reconnecting
    client sends `Last-Event-ID` to skip events it already has.

    Args:
        task_run_ids (list[str]):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | str]
    """

    kwargs = _get_kwargs(
        task_run_ids=task_run_ids,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    task_run_ids: list[str],
    last_event_id: str | Unset = UNSET,
) -> Error | str | None:
    """Stream an event for each run as it reaches a terminal state

     A Server-Sent Events stream. It starts with a `retry: <ms>` line, sends `: ping` comments
    while idle, and one event per requested run when that run is terminal:

        id: <monotonic id>
        event: task.completed
        data: <TaskRunDetails JSON on one line>

    Render names every terminal event `task.completed`; clients also accept `task.succeeded`,
    `task.failed` and `task.canceled` and read the outcome from the data's `status`. A run
    that is already terminal when the stream opens still produces its event. A reconnecting
    client sends `Last-Event-ID` to skip events it already has.

    Args:
        task_run_ids (list[str]):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | str
    """

    return (
        await asyncio_detailed(
            client=client,
            task_run_ids=task_run_ids,
            last_event_id=last_event_id,
        )
    ).parsed
