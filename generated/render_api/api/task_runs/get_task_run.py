from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.task_run_details import TaskRunDetails
from ...types import Response


def _get_kwargs(
    task_run_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/task-runs/{task_run_id}".format(
            task_run_id=quote(str(task_run_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | TaskRunDetails | None:
    if response.status_code == 200:
        response_200 = TaskRunDetails.from_dict(response.json())

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
) -> Response[Error | TaskRunDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    task_run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Error | TaskRunDetails]:
    """Get a run with its results, input and attempts

    Args:
        task_run_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskRunDetails]
    """

    kwargs = _get_kwargs(
        task_run_id=task_run_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    task_run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Error | TaskRunDetails | None:
    """Get a run with its results, input and attempts

    Args:
        task_run_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskRunDetails
    """

    return sync_detailed(
        task_run_id=task_run_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    task_run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Error | TaskRunDetails]:
    """Get a run with its results, input and attempts

    Args:
        task_run_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskRunDetails]
    """

    kwargs = _get_kwargs(
        task_run_id=task_run_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    task_run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Error | TaskRunDetails | None:
    """Get a run with its results, input and attempts

    Args:
        task_run_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskRunDetails
    """

    return (
        await asyncio_detailed(
            task_run_id=task_run_id,
            client=client,
        )
    ).parsed
