"""One worker process: uvicorn (uvloop + httptools) on the socket the main process bound.

Runs in a child of :mod:`serving.server` right after ``fork()``, so it inherits the
loaded model and the listening socket. Its HTTP protocol is uvicorn's httptools one with
the connection bounds of :mod:`serving.connections`. Once the application is built, the
heap is frozen (:func:`serving.memory.freeze_heap`) so garbage collections skip the
model's objects. uvicorn handles SIGTERM itself: it stops accepting, lets in-flight
requests finish (up to the graceful timeout), then returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
from typing import NoReturn

import uvicorn

from serving.app import create_app
from serving.connections import ConnectionGuard, guarded_protocol
from serving.memory import freeze_heap
from serving.metrics import Metrics
from serving.models import ServedModel
from serving.settings import Settings

log = logging.getLogger("serving.worker")

EXIT_OK = 0
EXIT_WORKER_START_FAILED = 3


def run_worker(
    settings: Settings,
    sock: socket.socket,
    model: ServedModel | None,
    load_seconds: float,
    stopped_accepting_fd: int | None = None,
) -> NoReturn:
    """Serve until SIGTERM or SIGINT, then exit the process (never returns).

    ``model`` None means the model is still loading: this worker answers ``/ping`` with
    503 until the main process replaces it with workers that hold the model. When it gets
    SIGTERM it writes a byte to ``stopped_accepting_fd`` as soon as it no longer accepts
    connections, so the main process can start the real workers without any overlap.
    """
    stop = _StopFlag()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # The main process blocked these around fork(); deliver any that arrived since.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    code = EXIT_OK
    try:
        if model is not None:
            model.start_worker()
        metrics = Metrics()
        if model is not None:
            metrics.model_load_seconds.set(load_seconds)
        guard = ConnectionGuard(
            max_header_bytes=settings.max_header_bytes,
            header_timeout_seconds=settings.header_timeout_seconds,
            max_connections=settings.max_connections,
        )
        app = create_app(settings, model, metrics, connections=guard)
        config = uvicorn.Config(
            app,
            loop="uvloop",
            http=guarded_protocol(guard),
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=settings.keepalive_seconds,
            timeout_graceful_shutdown=(
                math.ceil(settings.graceful_timeout_seconds) if model is not None else 1
            ),
        )
        config.load()
        frozen = freeze_heap()
        metrics.gc_frozen_objects.set(frozen)
        log.debug("heap frozen", extra={"objects": frozen})
        server = _Server(config, stopped_accepting_fd)
        stop.server = server
        server.should_exit = stop.requested
        # uvicorn installs its own handlers while serving and re-raises the signal when it
        # is done; ours then only record it.
        server.run(sockets=[sock])
    except Exception:
        log.exception("worker failed")
        code = EXIT_WORKER_START_FAILED
    finally:
        logging.shutdown()
    # Skip interpreter teardown: a model call that outlived the graceful timeout must not
    # keep the process alive while its thread is joined.
    os._exit(code)


class _Server(uvicorn.Server):
    """uvicorn, but it stops accepting the moment SIGTERM arrives rather than at its next
    0.1 s tick, so the main process can hand the socket over without overlap."""

    def __init__(self, config: uvicorn.Config, stopped_accepting_fd: int | None) -> None:
        super().__init__(config)
        self._stopped_accepting_fd = stopped_accepting_fd

    def handle_exit(self, sig: int, frame: object) -> None:
        super().handle_exit(sig, frame)  # type: ignore[arg-type]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon_threadsafe(self._stop_accepting)

    def _stop_accepting(self) -> None:
        for listener in getattr(self, "servers", []):
            listener.close()
        if self._stopped_accepting_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._stopped_accepting_fd, b"x")
                os.close(self._stopped_accepting_fd)
            self._stopped_accepting_fd = None


class _StopFlag:
    """Signal handler for the moments uvicorn's own is not installed: before it starts
    (a SIGTERM then makes it shut down as soon as it is up) and after it returns."""

    def __init__(self) -> None:
        self.requested = False
        self.server: uvicorn.Server | None = None

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True
