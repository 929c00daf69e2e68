from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.run_task import RunTask
from ...models.task_run import TaskRun
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: RunTask,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(prefer, Unset):
        headers["Prefer"] = prefer

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/task-runs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | TaskRun | None:
    if response.status_code == 202:
        response_202 = TaskRun.from_dict(response.json())

        return response_202

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

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

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
) -> Response[Error | TaskRun]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RunTask,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Error | TaskRun]:
    """Start a run of a task

     Queues one run of the task named by `task` with `input` as its arguments and answers
    `202` with the new run.

    With `idempotencyKey` in the body (as Render accepts it), a later request carrying the
    same key and the same task and input answers `202` with the run the first one started
    instead of starting another. The same key with a different task or input is a `409`
    whose message names the key (Render ignores the repeated input instead; failing is
    the safer answer for a local engine). The local engine keeps keys as long as its
    database (at least 24 hours, as Render does). The `Idempotency-Key` header is an alias,
    used when the body has no `idempotencyKey`. A key over 255 characters is a `400`.

    With `Prefer: wait=<seconds>` (RFC 7240), the local engine holds the answer until the run
    is terminal or the seconds have passed, whichever comes first, and answers `202` with the
    run's TaskRunDetails (every TaskRun field plus `results`, `input` and `error`) and
    `Preference-Applied: wait=<seconds>`. A server that ignores the preference answers at
    once with the TaskRun as usual.

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):
        body (RunTask):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskRun]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: RunTask,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Error | TaskRun | None:
    """Start a run of a task

     Queues one run of the task named by `task` with `input` as its arguments and answers
    `202` with the new run.

    With `idempotencyKey` in the body (as Render accepts it), a later request carrying the
    same key and the same task and input answers `202` with the run the first one started
    instead of starting another. The same key with a different task or input is a `409`
    whose message names the key (Render ignores the repeated input instead; failing is
    the safer answer for a local engine). The local engine keeps keys as long as its
    database (at least 24 hours, as Render does). The `Idempotency-Key` header is an alias,
    used when the body has no `idempotencyKey`. A key over 255 characters is a `400`.

    With `Prefer: wait=<seconds>` (RFC 7240), the local engine holds the answer until the run
    is terminal or the seconds have passed, whichever comes first, and answers `202` with the
    run's TaskRunDetails (every TaskRun field plus `results`, `input` and `error`) and
    `Preference-Applied: wait=<seconds>`. A server that ignores the preference answers at
    once with the TaskRun as usual.

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):
        body (RunTask):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskRun
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RunTask,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Error | TaskRun]:
    """Start a run of a task

     Queues one run of the task named by `task` with `input` as its arguments and answers
    `202` with the new run.

    With `idempotencyKey` in the body (as Render accepts it), a later request carrying the
    same key and the same task and input answers `202` with the run the first one started
    instead of starting another. The same key with a different task or input is a `409`
    whose message names the key (Render ignores the repeated input instead; failing is
    the safer answer for a local engine). The local engine keeps keys as long as its
    database (at least 24 hours, as Render does). The `Idempotency-Key` header is an alias,
    used when the body has no `idempotencyKey`. A key over 255 characters is a `400`.

    With `Prefer: wait=<seconds>` (RFC 7240), the local engine holds the answer until the run
    is terminal or the seconds have passed, whichever comes first, and answers `202` with the
    run's TaskRunDetails (every TaskRun field plus `results`, `input` and `error`) and
    `Preference-Applied: wait=<seconds>`. A server that ignores the preference answers at
    once with the TaskRun as usual.

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):
        body (RunTask):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskRun]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RunTask,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Error | TaskRun | None:
    """Start a run of a task

     Queues one run of the task named by `task` with `input` as its arguments and answers
    `202` with the new run.

    With `idempotencyKey` in the body (as Render accepts it), a later request carrying the
    same key and the same task and input answers `202` with the run the first one started
    instead of starting another. The same key with a different task or input is a `409`
    whose message names the key (Render ignores the repeated input instead; failing is
    the safer answer for a local engine). The local engine keeps keys as long as its
    database (at least 24 hours, as Render does). The `Idempotency-Key` header is an alias,
    used when the body has no `idempotencyKey`. A key over 255 characters is a `400`.

    With `Prefer: wait=<seconds>` (RFC 7240), the local engine holds the answer until the run
    is terminal or the seconds have passed, whichever comes first, and answers `202` with the
    run's TaskRunDetails (every TaskRun field plus `results`, `input` and `error`) and
    `Preference-Applied: wait=<seconds>`. A server that ignores the preference answers at
    once with the TaskRun as usual.

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):
        body (RunTask):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskRun
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            prefer=prefer,
        )
    ).parsed
