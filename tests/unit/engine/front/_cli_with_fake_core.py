"""``render-workflows dev`` over the fake core, for the CLI's process tests.

python _cli_with_fake_core.py --port 0 main:app
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_core import FakeCore

from render_sdk.engine.cli import main
from render_sdk.engine.interface import EngineConfig


class LoggingFakeCore(FakeCore):
    """Logs like the real core does, so the CLI's output lines can be checked."""

    def __init__(self, config: EngineConfig) -> None:
        super().__init__()
        self.config = config

    async def start(self) -> None:
        await super().start()
        if os.environ.get("FAKE_CORE_START") == "fail":
            raise RuntimeError("the worker exited with status 1 while registering its tasks")
        if os.environ.get("FAKE_CORE_START") == "hang":
            print("fake core: starting forever", flush=True)
            try:
                await asyncio.Event().wait()
            finally:  # like the real core, a start that does not finish cleans up after itself
                print("fake core: start canceled", flush=True)
        print(f"fake core: db={self.config.db_path} durable={self.config.durable}", flush=True)
        logging.getLogger("render_sdk.engine.runs").info("trn-1 square: pending -> running")
        logging.getLogger("render_sdk.engine.logs").info("square trn-1: hello from the worker")

    async def stop(self) -> None:
        await super().stop()
        print("fake core: stopped", flush=True)


sys.exit(main(sys.argv[1:], core_factory=LoggingFakeCore))
