from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.log_entry_with_cursor import LogEntryWithCursor
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    task_run_id: str,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["taskRunId"] = task_run_id

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/logs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | list[LogEntryWithCursor] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = LogEntryWithCursor.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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
) -> Response[Error | list[LogEntryWithCursor]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    task_run_id: str,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Error | list[LogEntryWithCursor]]:
    """List what a run wrote to stdout and stderr (local-engine extension)

     Local-engine extension, not served by Render. Lines in the order they were written, over
    all attempts of the run. The response carries `Render-Logs-Truncated: true` when the
    engine stopped capturing because the run wrote more than its limit.

    Args:
        task_run_id (str):
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[LogEntryWithCursor]]
    """

    kwargs = _get_kwargs(
        task_run_id=task_run_id,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    task_run_id: str,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Error | list[LogEntryWithCursor] | None:
    """List what a run wrote to stdout and stderr (local-engine extension)

     Local-engine extension, not served by Render. Lines in the order they were written, over
    all attempts of the run. The response carries `Render-Logs-Truncated: true` when the
    engine stopped capturing because the run wrote more than its limit.

    Args:
        task_run_id (str):
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[LogEntryWithCursor]
    """

    return sync_detailed(
        client=client,
        task_run_id=task_run_id,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    task_run_id: str,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Error | list[LogEntryWithCursor]]:
    """List what a run wrote to stdout and stderr (local-engine extension)

     Local-engine extension, not served by Render. Lines in the order they were written, over
    all attempts of the run. The response carries `Render-Logs-Truncated: true` when the
    engine stopped capturing because the run wrote more than its limit.

    Args:
        task_run_id (str):
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[LogEntryWithCursor]]
    """

    kwargs = _get_kwargs(
        task_run_id=task_run_id,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    task_run_id: str,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Error | list[LogEntryWithCursor] | None:
    """List what a run wrote to stdout and stderr (local-engine extension)

     Local-engine extension, not served by Render. Lines in the order they were written, over
    all attempts of the run. The response carries `Render-Logs-Truncated: true` when the
    engine stopped capturing because the run wrote more than its limit.

    Args:
        task_run_id (str):
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[LogEntryWithCursor]
    """

    return (
        await asyncio_detailed(
            client=client,
            task_run_id=task_run_id,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
