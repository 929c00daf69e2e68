"""This engine as one node of its store: its lease, the sweep of lapsed nodes, and claims.

Every start of an engine is a node with an id of its own (``nod-...``). The runs a node holds
carry its id as their ``owner`` (render_sdk/engine/store.py, "Nodes and claims"; docs/engine.md,
"Nodes and claims"). :class:`Node` is where this engine joins its store, takes the work that no
live node holds, and leaves it:

- at start it joins (a lease of ``lease_seconds``), sweeps (frees the runs of owners that are
  gone: their running attempts are recorded as interrupted, no retry spent) and claims the runs
  nobody holds. With a store of one node at a time (SQLite, memory), every earlier owner is gone
  at open, so this is the recovery of everything left unfinished, runs in a retry wait included
  (each resumes at its ``not_before``);
- when it stops cleanly it leaves: its runs are freed at once for other nodes.

New runs of a single-node store never go through claims: the fast lane inserts them owned by
this node and the scheduler's in-memory queue runs them (render_sdk/engine/fastlane.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from render_sdk.engine.records import RunRecord
from render_sdk.engine.store import Store

_log = logging.getLogger("render_sdk.engine")

DEFAULT_LEASE_SECONDS = 15.0


class Node:
    """This engine's membership of its store.

    node = Node(store, "nod-1a2b", lease_seconds=15.0)
    runs, freed = await node.join()  # the runs this node now holds, oldest first
    ...
    await node.leave()
    """

    def __init__(self, store: Store, node_id: str, lease_seconds: float) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"the lease must be longer than 0 seconds, got {lease_seconds:g}")
        self.store = store
        self.id = node_id
        self.lease_seconds = lease_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._joined = False

    async def join(self) -> tuple[list[RunRecord], set[str]]:
        """Join the store, free the runs of owners that are gone, and claim what nobody holds
        (all of it with a single-node store): the claimed runs, oldest first, and the ids of
        the runs this sweep freed."""
        await self.store.join(self.id, self.lease_seconds)
        self._joined = True
        freed = await self.sweep()
        claimed = await self.store.claim_runs(self.id, None, waiting=True)
        return claimed, {run_id for ids in freed.values() for run_id in ids}

    async def sweep(self) -> dict[str, list[str]]:
        """Free the runs of owners that are gone; the freed run ids by former owner."""
        freed = await self.store.sweep()
        for owner, run_ids in freed.items():
            if owner:
                _log.info(
                    "node %s is gone: %d run(s) it held are free to run again", owner, len(run_ids)
                )
        return freed

    async def leave(self) -> None:
        """Stop the node's loops and free its runs at once (they stay unfinished)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._joined:
            self._joined = False
            await self.store.leave(self.id)
