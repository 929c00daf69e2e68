"""The local engine inside a Python program: :class:`LocalEngine`.

    with LocalEngine("main:app") as engine:        # a thread with its own event loop
        print(engine.base_url)                    # http://127.0.0.1:<free port>

    async with LocalEngine("main:app") as engine:  # in the caller's event loop
        ...

It runs the engine's core and its REST API (uvicorn, on a free loopback port) and stops both on
exit. Point a client at it with :meth:`LocalEngine.env` (``RENDER_LOCAL_DEV_URL``) or
:meth:`LocalEngine.client`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from render_sdk.engine.api import close_streams, create_app
from render_sdk.engine.browser_guard import loopback_hosts
from render_sdk.engine.interface import EngineConfig, EngineCoreAPI

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from render_sdk.client import Render, RenderAsync

DEFAULT_SHUTDOWN_GRACE = 5


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, ``127.x.x.x``, ``::1``).

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
    (True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: a free port), for uvicorn to serve.

    Raises OSError with the address in its message when the address cannot be used.
    """
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle's algorithm off only on sockets that say they are
    # TCP; without it, every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def served_hosts(bind_host: str, allowed_hosts: Collection[str] = ()) -> frozenset[str] | None:
    """The ``Host`` names an engine bound to ``bind_host`` serves (None: any).

    This machine's names always; an engine on another address serves any name (it requires an
    API key) unless ``allowed_hosts`` lists them.

    >>> sorted(served_hosts("127.0.0.1", ["dev.test"]))
    ['127.0.0.1', '::1', 'dev.test', 'localhost']
    """
    if allowed_hosts:
        extra = {bind_host} if not is_loopback(bind_host) else set()
        return loopback_hosts() | frozenset(allowed_hosts) | extra
    return loopback_hosts() if is_loopback(bind_host) else None


class _Server(uvicorn.Server):
    """uvicorn's server that leaves signals to its owner and reports when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self._exit = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        """Begin a graceful shutdown (call in the server's loop)."""
        self.should_exit = True
        self._exit.set()

    async def main_loop(self) -> None:
        # uvicorn's own loop checks should_exit every 0.1 s; this one wakes at once on
        # request_exit() and otherwise ticks once a second (the Date header is per second).
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 10
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class ServedEngine:
    """A started core plus the uvicorn server of its REST API, in the current event loop.

    served = await ServedEngine.start(core, sock, api_key=None)
    ...
    await served.stop()
    """

    def __init__(self, core: EngineCoreAPI, app: Starlette, server: _Server) -> None:
        self.core = core
        self.app = app
        self.server = server
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        core: EngineCoreAPI,
        sock: socket.socket,
        *,
        api_key: str | None,
        log_level: str = "warning",
        access_log: bool = False,
        shutdown_grace: int = DEFAULT_SHUTDOWN_GRACE,
        app_options: dict[str, Any] | None = None,
        uvicorn_logging: bool = False,
        allowed_hosts: Collection[str] = (),
    ) -> ServedEngine:
        """Start ``core``, then serve its API on ``sock``; on failure, leave nothing running.

        ``allowed_hosts``: more ``Host`` names to serve (see :func:`served_hosts`).
        """
        await core.start()
        task: asyncio.Task[None] | None = None
        try:
            options = {
                "allowed_hosts": served_hosts(str(sock.getsockname()[0]), allowed_hosts),
                **(app_options or {}),
            }
            app = create_app(core, api_key=api_key, **options)
            config = uvicorn.Config(
                app,
                log_level=log_level,
                access_log=access_log,
                lifespan="off",
                timeout_graceful_shutdown=shutdown_grace,
                server_header=False,
                timeout_keep_alive=65,
                # Leave the host program's logging alone unless asked (the CLI asks).
                log_config=uvicorn.config.LOGGING_CONFIG if uvicorn_logging else None,
            )
            served = cls(core, app, _Server(config))
            task = asyncio.create_task(served.server.serve(sockets=[sock]))
            served._task = task
            ready = asyncio.create_task(served.server.ready.wait())
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                await task  # re-raises what stopped the server
                raise RuntimeError("the engine's HTTP server stopped while starting")
        except BaseException:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            await core.stop()
            raise
        return served

    async def stop(self) -> None:
        """End event streams, stop the server (open requests get a grace period), stop the core."""
        try:
            close_streams(self.app)
            self.server.request_exit()
            if self._task is not None:
                await self._task
        finally:
            await self.core.stop()


class LocalEngine:
    """A local engine for scripts and tests: core plus REST API on a free loopback port.

    Exactly one of ``app_target`` (``"module:app"``, run on the fast path of reused,
    pre-imported worker processes) and ``start_command`` (any worker start command, one process
    per attempt) is given. ``db`` is ``":memory:"`` by default; pass a path to keep runs across
    restarts, or a ``postgresql://`` URL for the PostgreSQL store (the ``postgres`` extra).
    ``core`` replaces the engine's core with any :class:`EngineCoreAPI` (for tests).

        with LocalEngine("main:app", cwd="examples") as engine:
            render = engine.client()
    """

    def __init__(
        self,
        app_target: str | None = None,
        *,
        start_command: list[str] | None = None,
        db: str | os.PathLike[str] = ":memory:",
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        api_key: str | None = None,
        max_concurrency: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        durable: bool | None = None,
        log_level: str = "warning",
        startup_timeout: float = 120.0,
        core: EngineCoreAPI | None = None,
        app_options: dict[str, Any] | None = None,
        allowed_hosts: Collection[str] = (),
    ) -> None:
        if core is None and (app_target is None) == (start_command is None):
            raise ValueError("give exactly one of app_target ('module:app') and start_command")
        if start_command is not None and not start_command:
            raise ValueError("start_command must not be empty")
        if not is_loopback(host) and not api_key:
            raise ValueError(f"refusing to serve on non-loopback host {host!r} without an api_key")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.app_target = app_target
        self.start_command = list(start_command) if start_command is not None else None
        self.db = os.fspath(db)
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.worker_env = dict(env or {})
        self.api_key = api_key
        self.max_concurrency = max_concurrency
        self.host = host
        self.port = port  # the port asked for; the bound one once started
        self._requested_port = port
        self.durable = durable
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.app_options = app_options
        self.allowed_hosts = tuple(allowed_hosts)
        self._given_core = core
        self._served: ServedEngine | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._thread_error: BaseException | None = None

    # --- what callers use ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the engine's REST API (without ``/v1``)."""
        if self._served is None:
            raise RuntimeError("the local engine is not running")
        host = self.host if ":" not in self.host else f"[{self.host.strip('[]')}]"
        return f"http://{host}:{self.port}"

    @property
    def inspector_url(self) -> str:
        """The run inspector's first page (docs/inspector.md)."""
        return self.base_url + "/"

    @property
    def core(self) -> EngineCoreAPI:
        """The running engine's core."""
        if self._served is None:
            raise RuntimeError("the local engine is not running")
        return self._served.core

    def env(self) -> dict[str, str]:
        """Environment that points ``Render()``/``RenderAsync()`` at this engine.

        os.environ.update(engine.env())
        """
        values = {"RENDER_LOCAL_DEV_URL": self.base_url}
        if self.api_key:
            values["RENDER_API_KEY"] = self.api_key
        return values

    def client(self, **kwargs: Any) -> Render:
        """A blocking ``render_sdk.Render`` client for this engine.

        with engine.client() as render:
            render.workflows.run_task("square", [3])
        """
        from render_sdk.client import Render

        return Render(token=self.api_key, base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> RenderAsync:
        """A ``render_sdk.RenderAsync`` client for this engine."""
        from render_sdk.client import RenderAsync

        return RenderAsync(token=self.api_key, base_url=self.base_url, **kwargs)

    # --- async use, in the caller's loop ---------------------------------------------------
    async def astart(self) -> LocalEngine:
        """Start in the running event loop (what ``async with`` does)."""
        if self._served is not None or self._thread is not None:
            raise RuntimeError("the local engine is already running")
        return await self._astart()

    async def _astart(self) -> LocalEngine:
        sock = bind_socket(self.host, self._requested_port)
        try:
            self.port = int(sock.getsockname()[1])
            self._served = await asyncio.wait_for(
                ServedEngine.start(
                    self._make_core(),
                    sock,
                    api_key=self.api_key,
                    log_level=self.log_level,
                    app_options=self.app_options,
                    allowed_hosts=self.allowed_hosts,
                ),
                timeout=self.startup_timeout,
            )
        except BaseException:
            sock.close()
            raise
        return self

    async def astop(self) -> None:
        """Stop what :meth:`astart` started."""
        served, self._served = self._served, None
        if served is not None:
            await served.stop()

    async def __aenter__(self) -> LocalEngine:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    # --- sync use, in a background thread ---------------------------------------------------
    def start(self) -> LocalEngine:
        """Start in a background thread with its own event loop (what ``with`` does)."""
        if self._served is not None or self._thread is not None:
            raise RuntimeError("the local engine is already running")
        started = threading.Event()
        self._thread_error = None
        self._thread = threading.Thread(
            target=self._thread_main, args=(started,), name="render-local-engine", daemon=True
        )
        self._thread.start()
        if not started.wait(self.startup_timeout + 5):
            raise TimeoutError(f"the local engine did not start in {self.startup_timeout} s")
        if self._thread_error is not None:
            self._thread.join()
            self._thread = None
            raise self._thread_error
        return self

    def stop(self) -> None:
        """Stop what :meth:`start` started and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None
        if self._thread_error is not None:
            error, self._thread_error = self._thread_error, None
            raise error

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def call(self, func: Any, *args: Any) -> Any:
        """Run ``func(*args)`` in the engine's loop (sync use) and return its result.

        A coroutine function is awaited there. Useful to reach :attr:`core` from another thread.
        """
        if self._loop is None:
            raise RuntimeError("call() needs an engine started with start() or `with`")

        async def invoke() -> Any:
            result = func(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result()

    def _thread_main(self, started: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_requested = asyncio.Event()
            try:
                await self._astart()
            except BaseException as exc:
                self._thread_error = exc
                started.set()
                return
            started.set()
            try:
                await self._stop_requested.wait()
            finally:
                await self.astop()

        try:
            asyncio.run(main())
        except BaseException as exc:
            if self._thread_error is None:
                self._thread_error = exc
        finally:
            self._loop = None
            started.set()

    def _make_core(self) -> EngineCoreAPI:
        if self._given_core is not None:
            return self._given_core
        from render_sdk.engine.core import EngineCore

        config = EngineConfig(
            db_path=self.db,
            app_target=self.app_target,
            start_command=self.start_command,
            cwd=self.cwd,
            env=self.worker_env,
            max_concurrency=self.max_concurrency,
        )
        if self.durable is not None:
            config.durable = self.durable
        core: EngineCoreAPI = EngineCore(config)
        return core
