"""Listing runs by status through the engine core: a filter's answer is what an unfiltered
listing shows, although an active run's state in memory may be ahead of the store's
(docs/engine.md, "Listing runs")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from render_sdk.engine import scheduler
from render_sdk.engine._attempts import Attempt
from render_sdk.engine.core import EngineCore
from render_sdk.engine.lifecycle import Outcome
from render_sdk.engine.records import RunFilter, RunRecord, RunStatus
from render_sdk.engine.store_memory import MemoryStore

from .conftest import wait_end
from .fake_workers import Calls, FakeWorkers, fake_engine

DEADLINE = 60.0  # generous: the events below come in milliseconds


async def start(core: EngineCore, name: str) -> RunRecord:
    found = await core.find_task(name)
    assert found is not None
    return await core.start_run(found, [])


async def listed(core: EngineCore, run_filter: RunFilter, limit: int = 100) -> list[str]:
    """Every run of the listing, page after page of ``limit``."""
    ids: list[str] = []
    cursor = None
    while True:
        page = await core.list_runs(run_filter, limit, cursor)
        ids += [rec.id for rec, _ in page]
        if len(page) < limit:
            return ids
        cursor = page[-1][1]


async def assert_filters_agree(core: EngineCore) -> dict[str, RunStatus]:
    """Each status's listing (in pages of 1 and of 100) is exactly the runs the unfiltered
    listing shows in that status; returns what the unfiltered listing shows."""
    shown = [(rec.id, rec.status) for rec, _ in await core.list_runs(RunFilter(), 100, None)]
    for status in RunStatus:
        expected = [run_id for run_id, s in shown if s is status]
        only = RunFilter(statuses=frozenset({status}))
        assert await listed(core, only) == expected, status
        assert await listed(core, only, limit=1) == expected, status
    return dict(shown)


class GatedStarts(MemoryStore):
    """Holds the commit of an attempt's start for runs of the task "gated" until released
    (the write is applied at once, as SQLite applies it before its commit)."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    def save_run(self, run: RunRecord) -> asyncio.Future[None]:
        saved = super().save_run(run)
        if run.task_name == "gated" and run.status is RunStatus.RUNNING:
            self.held.set()
            return asyncio.ensure_future(self._released())
        return saved

    async def _released(self) -> None:
        await self.release.wait()


async def test_a_run_whose_start_is_being_written_is_listed_as_pending() -> None:
    """Stored running, shown pending while its start commits: the pending listing has it,
    the running one does not, and paging over a run the filter leaves out goes on."""
    gates = {name: asyncio.Event() for name in ("first", "second", "gated")}

    def held(name: str) -> Any:
        async def fn(value: Any, calls: Calls) -> Any:
            await gates[name].wait()
            return name

        return fn

    store = GatedStarts()
    core, workers = await fake_engine({name: held(name) for name in gates}, limit=2, store=store)
    first = await start(core, "first")
    second = await start(core, "second")
    await workers.wait_started(2)
    gated = await start(core, "gated")  # queued: both slots are taken
    gates["first"].set()  # its slot goes to the gated run, whose start is written after 50 ms
    await asyncio.wait_for(store.held.wait(), DEADLINE)
    stored = await store.get_run(gated.id)
    assert stored is not None and stored.status is RunStatus.RUNNING
    shown = await assert_filters_agree(core)
    assert shown[gated.id] is RunStatus.PENDING and shown[second.id] is RunStatus.RUNNING
    running = RunFilter(statuses=frozenset({RunStatus.RUNNING}))
    (only, _), *_ = await core.list_runs(running, 1, None)  # the newer gated run is passed over
    assert only.id == second.id
    shown_running = asyncio.Event()

    def on_state(rec: RunRecord) -> None:
        if rec.id == gated.id and rec.status is RunStatus.RUNNING:
            shown_running.set()

    core.watch_states(on_state)
    store.release.set()
    await asyncio.wait_for(shown_running.wait(), DEADLINE)
    shown = await assert_filters_agree(core)
    assert shown[gated.id] is RunStatus.RUNNING and shown[first.id] is RunStatus.COMPLETED
    gates["second"].set()
    gates["gated"].set()
    for rec in (second, gated):
        assert (await asyncio.wait_for(wait_end(core, rec.id), DEADLINE)).status is (
            RunStatus.COMPLETED
        )
    await assert_filters_agree(core)
    await core.stop()


class GatedEnds(FakeWorkers):
    """Holds the end of each attempt of the task "gated" until released."""

    held = asyncio.Event()
    release = asyncio.Event()

    async def end_attempt(self, attempt: Attempt, outcome: Outcome) -> None:
        if attempt.run.record.task_name == "gated":
            type(self).held.set()
            await type(self).release.wait()
        await super().end_attempt(attempt, outcome)


async def test_a_short_attempt_is_never_shown_running_before_its_start_is_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An attempt that ends before its start is written is written once, with its outcome;
    until then the run shows pending, as it is stored, never running while stored pending."""
    monkeypatch.setattr(scheduler, "RECORD_START_AFTER", 3600.0)
    monkeypatch.setattr(GatedEnds, "held", asyncio.Event())
    monkeypatch.setattr(GatedEnds, "release", asyncio.Event())
    gate = asyncio.Event()

    async def first(value: Any, calls: Calls) -> Any:
        await gate.wait()
        return 1

    async def gated(value: Any, calls: Calls) -> Any:
        return 2

    core, _ = await fake_engine({"first": first, "gated": gated}, limit=1, workers_class=GatedEnds)
    ahead = await start(core, "first")
    short = await start(core, "gated")  # queued behind the first
    gate.set()
    await asyncio.wait_for(GatedEnds.held.wait(), DEADLINE)  # ended, its end not yet handled
    stored = await core.store.get_run(short.id)
    assert stored is not None and stored.status is RunStatus.PENDING
    shown = await assert_filters_agree(core)
    assert shown[short.id] is RunStatus.PENDING
    GatedEnds.release.set()
    done = await asyncio.wait_for(wait_end(core, short.id), DEADLINE)
    assert done.status is RunStatus.COMPLETED and len(done.attempts) == 1
    assert (await wait_end(core, ahead.id)).status is RunStatus.COMPLETED
    await assert_filters_agree(core)
    await core.stop()
