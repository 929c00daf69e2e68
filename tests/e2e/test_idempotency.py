"""Idempotent starts against the real engine, through this SDK's clients."""

from __future__ import annotations

import uuid

import pytest

from render_sdk import Render, RenderAsync
from render_sdk.client.errors import ClientError
from tests.e2e._engine import EngineProcess


def test_same_key_same_input_gives_the_first_run(local_env: EngineProcess) -> None:
    key = f"order-{uuid.uuid4()}"
    with Render() as render:
        first = render.workflows.start_task("square", [6], idempotency_key=key)
        again = render.workflows.start_task("square", [6], idempotency_key=key)
        assert again.id == first.id
        details = render.workflows.run_task("square", [6], idempotency_key=key)
        assert details.id == first.id and details.result == 36
        with pytest.raises(ClientError) as caught:
            render.workflows.start_task("square", [7], idempotency_key=key)
    assert caught.value.status_code == 409
    assert key in str(caught.value) and first.id in str(caught.value)


async def test_async_client_sends_the_key_too(local_env: EngineProcess) -> None:
    key = f"order-{uuid.uuid4()}"
    async with RenderAsync() as render:
        first = await render.workflows.start_task("square", {"a": 2}, idempotency_key=key)
        again = await render.workflows.start_task("square", {"a": 2}, idempotency_key=key)
        assert again.id == first.id
        assert (await again).result == 4
        with pytest.raises(ClientError, match="255"):
            await render.workflows.start_task("square", [2], idempotency_key="k" * 256)
