"""This engine as one node of its store: its lease, the sweep of lapsed nodes, and claims.

Every start of an engine is a node with an id of its own (``nod-...``). The runs a node holds
carry its id as their ``owner`` (render_sdk/engine/store.py, "Nodes and claims"; docs/engine.md,
"Nodes and claims" and "Running several nodes"). :class:`Node` is where this engine joins its
store, takes the work that no live node holds, and leaves it:

- at start it joins (a lease of ``lease_seconds``), sweeps (frees the runs of owners that are
  gone: their running attempts are recorded as interrupted, no retry spent) and claims the runs
  nobody holds. With a store of one node at a time (SQLite, memory), every earlier owner is gone
  at open, so this is the recovery of everything left unfinished, runs in a retry wait included
  (each resumes at its ``not_before``); nothing more happens here until the node leaves;
- with a store that several nodes share (:class:`~render_sdk.engine.store.SharedStore`), it
  also renews its lease every third of it, sweeps every half of it, and claims runs nobody holds
  whenever it has free slots: woken by the news that there are some (another node's insert, a
  sweep), by a slot of its own freeing up after such news, and every CLAIM_EVERY seconds
  whatever happened (news can be lost). It also relays the news that runs ended
  (:meth:`Node.watch`) and cancels asked for on other nodes;
- when it stops cleanly it leaves: its runs are freed at once for other nodes.

A node joins with the tasks it defines, each name with a digest of its definition
(:func:`task_digests`). With a shared store it claims only runs of those tasks, so that nodes
running different versions of an app side by side (a rolling upgrade) never fail a run for want
of its task: a run waits for a node that defines its task. When it joins, and at each sweep, it
reads the other live nodes and says once, on the console, how the tasks of each that differs
differ from its own, and which tasks have runs waiting that no live node defines
(:meth:`Node.check_peers`).

New runs never go through claims when they can start at once: the fast lane inserts them owned
by this node and the scheduler's in-memory queue runs them (render_sdk/engine/fastlane.py). With
a single-node store that is every new run. So is every new run of a task no other live node
defines (:meth:`Node.shares`): a node alone keeps its queue, one write per run fewer. Once it
learns of a node that defines such a task (the news of a join, or the read at each sweep), it
gives up its hold on the queued runs it could share (:meth:`NodeHost.share_queued`), and from
then on stores the new ones for whichever node has a slot first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping
from typing import Any, Protocol

from render_sdk.engine._stored import task_spec
from render_sdk.engine.records import RunFilter, RunRecord, RunStatus, TaskRecord
from render_sdk.engine.store import NodeInfo, SharedStore, Store, fingerprint

_log = logging.getLogger("render_sdk.engine")

CLAIM_EVERY = 2.0  # seconds: the claim that runs whatever news came (the safety net)
RECHECK_EVERY = 5.0  # seconds: runs watched on other nodes are read again (lost news)
CHECK_AT_ONCE = 1000  # watched runs per read
NAMES_SHOWN = 3  # task names a report shows of each kind


def task_digests(tasks: Iterable[TaskRecord]) -> dict[str, str]:
    """Each task's name with a digest of its definition as its worker registered it (retry,
    timeout, plan, parameters): what the nodes of one store compare. The function's code is not
    part of it (the worker does not send it)."""
    return {t.name: hashlib.sha256(task_spec(t).encode()).hexdigest()[:16] for t in tasks}


def _names(names: Collection[str]) -> str:
    """At most NAMES_SHOWN names, in order, and how many more.

    >>> _names(["d", "a", "c", "b"])
    'a, b, c and 1 more'
    """
    shown = sorted(names)[:NAMES_SHOWN]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def differences(mine: Mapping[str, str], theirs: Mapping[str, str]) -> str:
    """How another node's tasks differ from this node's, for people.

    >>> differences({"a": "1", "b": "2", "c": "3"}, {"b": "2", "c": "9", "d": "4"})
    'only here: a; only there: d; defined differently: c'
    """
    parts = []
    for label, names in (
        ("only here", mine.keys() - theirs.keys()),
        ("only there", theirs.keys() - mine.keys()),
        ("defined differently", {n for n in mine.keys() & theirs.keys() if mine[n] != theirs[n]}),
    ):
        if names:
            parts.append(f"{label}: {_names(names)}")
    return "; ".join(parts)


def _who(peer: NodeInfo) -> str:
    return f"node {peer.id}" + (f" ({peer.about})" if peer.about else "")


class NodeHost(Protocol):
    """What the node needs of its engine."""

    def free_slots(self) -> int:
        """How many more runs the engine could start now."""

    async def take(self, records: list[RunRecord]) -> None:
        """Run these claimed runs (each now owned by this node)."""

    async def cancel_here(self, run_id: str, ancestor: str | None = None) -> None:
        """Cancel ``run_id`` if this node holds it (another node asked; ``ancestor``: the run
        above it whose cancel this is)."""

    def log_block(self, start: int) -> None:
        """Number log lines from ``start`` on (a fresh block of the shared store)."""

    async def share_queued(self) -> None:
        """Give up the hold on the queued runs kept for want of another node, now that one
        could run them (those of a task :meth:`Node.shares`), so that any node may claim them."""


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
        self.shared: SharedStore | None = (
            store if store.shared and isinstance(store, SharedStore) else None
        )
        self.host: NodeHost | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._joined = False
        self._wake = asyncio.Event()
        self._maybe_work = True  # news of runs to claim since a claim last found too few
        self._watchers: dict[str, list[Callable[[RunRecord], None]]] = {}
        self._unchecked: set[str] = set()  # watched runs to read (_check_soon)
        self._checking = False
        self.digests: dict[str, str] | None = None  # the tasks it defines (None: not said)
        self.peers: list[NodeInfo] = []  # the other live nodes, as last read
        self._told: set[tuple[str, str]] = set()  # (node, fingerprint) reported as different
        self._told_waiting: set[str] = set()  # tasks reported as waiting for a node

    # --- the tasks it defines -----------------------------------------------------------------
    async def define(self, tasks: Iterable[TaskRecord]) -> None:
        """The tasks this node defines (again when its worker registered them anew): with a
        shared store it claims only their runs, and the others learn them from its lease."""
        digests = task_digests(tasks)
        if digests == self.digests:
            return
        self.digests = digests
        if self._joined and self.shared is not None:
            await self.store.join(self.id, self.lease_seconds, digests)
            self.claim_soon()

    @property
    def fingerprint(self) -> str:
        """The digest of the tasks it defines ("" before :meth:`define`)."""
        return "" if self.digests is None else fingerprint(self.digests)

    async def defined_elsewhere(self, name: str) -> bool:
        """Whether another live node defines task ``name`` (a shared store only): as last read,
        or as read now when that says no."""
        if self.shared is None:
            return False
        if any(p.tasks is not None and name in p.tasks for p in self.peers):
            return True
        await self._read_peers()
        return any(p.tasks is not None and name in p.tasks for p in self.peers)

    def shares(self, task_name: str) -> bool:
        """Whether another live node (as last read) may run task ``task_name``: then this
        node's runs of it that wait for a slot are stored for any node to claim."""
        return any(p.tasks is None or task_name in p.tasks for p in self.peers)

    async def _read_peers(self) -> None:
        self.peers = [p for p in await self.store.live_nodes() if p.id != self.id]
        if self.peers and self.host is not None:
            self._background(self._share_queued())

    async def _share_queued(self) -> None:
        assert self.host is not None
        try:
            await self.host.share_queued()
        except Exception as exc:  # they stay queued here; tried again at the next read
            _log.warning("node %s: sharing its queued runs failed: %s", self.id, exc)

    def peer_joined(self, node_id: str) -> None:
        """Another node joined: read the live nodes (and share queued runs with it)."""
        if node_id == self.id or self.shared is None or not self._joined:
            return

        async def read() -> None:
            try:
                await self._read_peers()
            except Exception as exc:  # read again at the next sweep
                _log.warning("node %s: reading the other nodes failed: %s", self.id, exc)

        self._background(read())

    async def check_peers(self) -> None:
        """Read the other live nodes and report, once each, every node whose tasks differ from
        this one's (again if its tasks change), and the tasks with runs pending that no live
        node defines (again if they come back after a node defined them)."""
        if self.shared is None or self.digests is None:
            return
        mine = self.digests
        await self._read_peers()
        live = {p.id for p in self.peers}
        self._told = {told for told in self._told if told[0] in live}
        for peer in self.peers:
            told = (peer.id, peer.fingerprint)
            if told in self._told or peer.tasks == mine:
                continue
            self._told.add(told)
            if peer.tasks is None:
                _log.warning(
                    "%s does not say which tasks it defines (an engine of an earlier render_sdk):"
                    " it claims runs of any task and fails those it does not define",
                    _who(peer),
                )
            else:
                _log.warning(
                    "%s defines other tasks than this node (%s): %s. Each node runs only the "
                    "tasks it defines; runs of the others wait for a node that defines them",
                    _who(peer),
                    self.id,
                    differences(mine, peer.tasks),
                )
        await self._check_waiting(mine)

    async def _check_waiting(self, mine: Mapping[str, str]) -> None:
        if any(p.tasks is None for p in self.peers):
            return  # an engine that does not say its tasks may run them
        defined = set(mine).union(*(p.tasks or () for p in self.peers))
        pending = frozenset({RunStatus.PENDING})
        waiting = set()
        for task in await self.store.load_tasks():
            if task.name in defined or task.name in waiting:
                continue
            if await self.store.list_runs(RunFilter(task_id=task.id, statuses=pending), 1, None):
                waiting.add(task.name)
        new = waiting - self._told_waiting
        self._told_waiting = waiting
        if new:
            _log.warning(
                "runs of task%s %s are pending and no live node defines %s: they wait for a "
                "node that does (cancel them if the task is gone for good)",
                "s" if len(new) > 1 else "",
                _names(new),
                "them" if len(new) > 1 else "it",
            )

    # --- joining and leaving ------------------------------------------------------------------
    async def join(self) -> tuple[list[RunRecord], set[str]]:
        """Join the store, free the runs of owners that are gone, and claim what nobody holds
        (all of it with a single-node store): the claimed runs, oldest first, and the ids of
        the runs this sweep freed. With a shared store the claims are the node's to run
        (:meth:`start`) and nothing is returned."""
        await self.store.join(self.id, self.lease_seconds, self.digests)
        self._joined = True
        if self.shared is not None:
            await self.shared.listen(_News(self))
        freed = await self.sweep()
        if self.shared is not None:
            _log.info("node %s joined, its tasks' fingerprint %s", self.id, self.fingerprint)
            try:
                await self.check_peers()
            except Exception as exc:  # a report only: the node goes on without it
                _log.warning("node %s: reading the other nodes failed: %s", self.id, exc)
            return [], set()
        claimed = await self.store.claim_runs(self.id, None, waiting=True)
        return claimed, {run_id for ids in freed.values() for run_id in ids}

    def start(self, host: NodeHost) -> None:
        """With a shared store: start renewing, sweeping and claiming for ``host``."""
        self.host = host
        if self.shared is None:
            return
        self._wake.set()
        self._background(self._renew_loop())
        self._background(self._sweep_loop())
        self._background(self._claim_loop())
        self._background(self._recheck_loop())

    async def sweep(self) -> dict[str, list[str]]:
        """Free the runs of owners that are gone; the freed run ids by former owner."""
        freed = await self.store.sweep()
        for owner, run_ids in freed.items():
            if owner:
                _log.warning(
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

    # --- shared stores: the loops ---------------------------------------------------------------
    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _every(self, seconds: float, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: say so, go on
                _log.warning("node %s: %s failed: %s", self.id, step.__name__, exc)

    async def _renew_loop(self) -> None:
        async def renew() -> None:
            if not await self.store.renew(self.id, self.lease_seconds):
                # Swept: other nodes took its runs. Its attempts still running are run again
                # elsewhere (at-least-once); it joins again for new work.
                _log.error(
                    "node %s lost its lease (the database was out of reach for longer than "
                    "%gs): its runs were taken over by other nodes; joining again",
                    self.id,
                    self.lease_seconds,
                )
                await self.store.join(self.id, self.lease_seconds, self.digests)

        await self._every(self.lease_seconds / 3, renew)

    async def _sweep_loop(self) -> None:
        async def sweep() -> None:
            await self.sweep()
            await self.check_peers()

        await self._every(self.lease_seconds / 2, sweep)

    def claim_soon(self) -> None:
        """Claim runs nobody holds as soon as this node can (news that there are some)."""
        self._maybe_work = True
        self._wake.set()

    def slot_freed(self) -> None:
        """A slot of this node freed up: claim if news of work came since the last claim."""
        if self._maybe_work:
            self._wake.set()

    async def _claim_loop(self) -> None:
        assert self.host is not None and self.shared is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), CLAIM_EVERY)
            self._wake.clear()
            free = self.host.free_slots()
            if free <= 0:
                continue
            try:
                claimed = await self.store.claim_runs(self.id, free, tasks=self.digests)
                if any(rec.attempts for rec in claimed):
                    # Runs that ran before, perhaps on another node: their new lines must come
                    # after the lines they have, so they are numbered from a fresh block.
                    self.host.log_block(await self.shared.log_block())
                if claimed:
                    await self.host.take(claimed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("node %s: claiming runs failed: %s", self.id, exc)
                continue
            if len(claimed) < free:
                self._maybe_work = False
            else:
                self._wake.set()  # there may be more

    def log_block_low(self) -> None:
        """Half of this node's block of log line numbers is used: take a fresh one."""

        async def refill() -> None:
            assert self.host is not None and self.shared is not None
            try:
                self.host.log_block(await self.shared.log_block())
            except Exception as exc:
                _log.warning("node %s: taking log line numbers failed: %s", self.id, exc)

        if self.host is not None and self.shared is not None:
            self._background(refill())

    # --- shared stores: runs that end on other nodes --------------------------------------------
    def watch(self, run_id: str, callback: Callable[[RunRecord], None]) -> Callable[[], None]:
        """Call ``callback`` once with ``run_id``'s record when it is terminal, wherever it runs
        (on this node: when it ends here; elsewhere: read from the store after the news; and
        once right away: registered first, then read, so nothing is missed). Returns the
        function that withdraws it."""
        self._watchers.setdefault(run_id, []).append(callback)
        self._check_soon([run_id])

        def withdraw() -> None:
            found = self._watchers.get(run_id)
            if found is not None:
                with contextlib.suppress(ValueError):
                    found.remove(callback)
                if not found:
                    self._watchers.pop(run_id, None)

        return withdraw

    def done(self, run_id: str) -> None:
        if run_id in self._watchers:
            self._check_soon([run_id])

    def ended(self, rec: RunRecord) -> None:
        """Call the watchers of ``rec``, a terminal run, once: as read after the news, or as it
        ended on this node (its terminal write committed), so that the news of its end coming
        back reads nothing."""
        for callback in self._watchers.pop(rec.id, []):
            callback(rec)

    def _check_soon(self, run_ids: Iterable[str]) -> None:
        """Read these watched runs from the store soon: the ids asked for meanwhile are read
        together, one read (Store.get_runs) for all of them."""
        self._unchecked.update(run_ids)
        if not self._checking:
            self._checking = True
            self._background(self._check_unchecked())

    async def _check_unchecked(self) -> None:
        try:
            while self._unchecked:
                run_ids = [run_id for run_id in self._unchecked if run_id in self._watchers]
                self._unchecked.clear()
                for start in range(0, len(run_ids), CHECK_AT_ONCE):
                    chunk = run_ids[start : start + CHECK_AT_ONCE]
                    try:
                        found = await self.store.get_runs(chunk)
                    except Exception as exc:
                        _log.warning(
                            "reading %d watched run(s) failed: %s (read again in %gs)",
                            len(chunk),
                            exc,
                            RECHECK_EVERY,
                        )
                        continue
                    for rec in found.values():
                        if rec.status.terminal:
                            self.ended(rec)
        finally:
            self._checking = False

    def resync(self) -> None:
        self.claim_soon()
        self._check_soon(list(self._watchers))

    async def _recheck_loop(self) -> None:
        async def recheck() -> None:
            self._check_soon(list(self._watchers))

        await self._every(RECHECK_EVERY, recheck)

    def cancel(self, run_id: str, ancestor: str | None) -> None:
        if self.host is not None:
            self._background(self.host.cancel_here(run_id, ancestor))


class _News:
    """The node's :class:`~render_sdk.engine.store.StoreListener`."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def work(self) -> None:
        self.node.claim_soon()

    def done(self, run_id: str) -> None:
        self.node.done(run_id)

    def cancel(self, run_id: str, ancestor: str | None) -> None:
        self.node.cancel(run_id, ancestor)

    def joined(self, node: str) -> None:
        self.node.peer_joined(node)

    def resync(self) -> None:
        self.node.resync()
