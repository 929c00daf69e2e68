"""Run ids and attempt tokens."""

from __future__ import annotations

import os

from render_sdk.engine._ids import new_attempt_token, new_run_id


def test_ids_are_unique_and_a_forked_child_draws_its_own() -> None:
    ids = {new_run_id() for _ in range(20_000)} | {new_attempt_token() for _ in range(20_000)}
    assert len(ids) == 40_000
    assert all(len(i) == 24 for i in ids if i.startswith("trn-"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id
        os.write(write, new_run_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child_id.startswith("trn-") and child_id != new_run_id()
