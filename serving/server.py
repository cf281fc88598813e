"""The main process: bind, load the model once, fork workers, supervise, drain on SIGTERM.

Start-up, in order:

1. Bind the listening socket, so connections are accepted within milliseconds.
2. Fork a *loading* worker that answers ``/ping`` with 503 while the model loads.
3. Load the model here, once; then fork ``workers`` workers that share it copy-on-write.
4. Stop the loading worker (gracefully). From now on ``/ping`` answers 200.

Then it restarts workers that die unexpectedly (giving up after repeated crashes) and,
on SIGTERM or SIGINT, stops accepting connections, lets the workers finish what is in
flight (up to ``SERVING_GRACEFUL_TIMEOUT_SECONDS``) and exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import signal
import socket
import tempfile
import time
from collections import deque
from typing import Any

from serving.errors import ModelLoadError
from serving.memory import freeze_heap, tune_allocator
from serving.settings import Settings, available_cpus

log = logging.getLogger("serving.server")

EXIT_OK = 0
EXIT_MODEL_LOAD_FAILED = 1
EXIT_WORKERS_CRASHING = 4

#: More than this many unexpected worker exits within CRASH_WINDOW_SECONDS stops the server.
MAX_CRASHES = 5
CRASH_WINDOW_SECONDS = 60.0
#: Extra seconds after the graceful timeout before remaining workers get SIGKILL.
KILL_MARGIN_SECONDS = 3.0
#: Listen backlog: connections the kernel queues while every worker is busy.
BACKLOG = 2048
STOP_SIGNALS = frozenset((signal.SIGTERM, signal.SIGINT))
#: How long the loading worker may take to stop once the model is loaded.
LOADING_STOP_SECONDS = 5.0


class _Stop(Exception):
    """Raised by the signal handler to abandon loading the model."""


class Server:
    """Runs the serving processes for ``settings``; :meth:`run` returns the exit code."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers: dict[int, float] = {}  # pid -> start time (monotonic)
        self.loading_pid: int | None = None
        self.model: Any = None
        self.load_seconds = 0.0
        self._stopping = False
        self._loading = False
        self._crashes: deque[float] = deque()
        self._wakeup_r, self._wakeup_w = os.pipe()
        self._metrics_dir: str | None = None
        self._handover_fd: int | None = None
        self._sock: socket.socket | None = None

    def run(self) -> int:
        """Serve until stopped; returns the process exit code."""
        self._prepare_metrics_dir()
        tune_allocator()
        self._install_signal_handlers()
        try:
            # Bind first: from here on the kernel queues connections, even while imports run.
            self._sock = self._bind()
            # Imported only now: prometheus_client reads PROMETHEUS_MULTIPROC_DIR on import.
            # Importing before forking also shares the loaded modules with every worker.
            from serving import worker
            from serving.models import resolve

            self._worker = worker
            log.info(
                "listening",
                extra={"host": self.settings.host, "port": self.settings.port,
                       "workers": self.settings.workers, "model_dir": str(self.settings.model_dir)},
            )  # fmt: skip
            handover_r, handover_w = os.pipe()
            self.loading_pid = self._fork(model=None, stopped_accepting_fd=handover_w)
            os.close(handover_w)
            self._handover_fd = handover_r
            if not self._load_model(resolve):
                return EXIT_OK if self._stopping else EXIT_MODEL_LOAD_FAILED
            # Hand over without overlap: the loading worker stops accepting (connections wait
            # in the backlog meanwhile) before the workers that hold the model start.
            self._stop_loading_worker()
            for _ in range(self.settings.workers):
                self.workers[self._fork(model=self.model)] = time.monotonic()
            return self._supervise()
        finally:
            self._shutdown()

    # -- start-up ---------------------------------------------------------------------

    def _prepare_metrics_dir(self) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        self._metrics_dir = tempfile.mkdtemp(prefix="serving-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = self._metrics_dir

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.host, self.settings.port))
        sock.listen(BACKLOG)
        sock.set_inheritable(True)
        return sock

    def _load_model(self, resolve: Any) -> bool:
        started = time.perf_counter()
        self._loading = True
        try:
            threads = max(1, available_cpus() // self.settings.workers)
            model = resolve(
                self.settings.model_dir, self.settings.model_format, threads,
                self.settings.input_dtype,
            )  # fmt: skip
            model.load()
        except _Stop:
            log.info("stopped while loading the model")
            return False
        except ModelLoadError as exc:
            log.error("cannot load the model", extra={"error": str(exc)})
            return False
        except Exception:
            log.exception("cannot load the model")
            return False
        finally:
            self._loading = False
        if self._stopping:
            return False
        self.model = model
        self.load_seconds = time.perf_counter() - started
        # Before forking: collections in the workers then never write to the model's
        # pages, which stay shared copy-on-write.
        freeze_heap()
        log.info(
            "model loaded",
            extra={"seconds": round(self.load_seconds, 3), **model.describe()},
        )
        return True

    def _fork(self, model: Any, stopped_accepting_fd: int | None = None) -> int:
        assert self._sock is not None
        # Block stop signals across fork(): the child must not run this process's handlers;
        # it installs its own and then receives anything that arrived meanwhile.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(self._wakeup_r)
            os.close(self._wakeup_w)
            signal.set_wakeup_fd(-1)
            if self._handover_fd is not None:
                os.close(self._handover_fd)
            self._worker.run_worker(
                self.settings, self._sock, model, self.load_seconds, stopped_accepting_fd
            )
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return pid

    def _stop_loading_worker(self) -> None:
        """SIGTERM the loading worker and wait until it stops accepting connections.

        It says so through the hand-over pipe (or by exiting, which closes the pipe); if
        neither happens within a few seconds it is killed. It is reaped later.
        """
        if self.loading_pid is None or self._handover_fd is None:
            return
        _signal(self.loading_pid, signal.SIGTERM)
        ready, _, _ = _select_retrying(self._handover_fd, LOADING_STOP_SECONDS)
        if not ready:
            log.error("the loading worker did not stop accepting; killing it")
            _signal(self.loading_pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.loading_pid, 0)
            self.loading_pid = None
        os.close(self._handover_fd)
        self._handover_fd = None

    # -- supervision ------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        os.set_blocking(self._wakeup_w, False)
        signal.set_wakeup_fd(self._wakeup_w)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_stop_signal)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake select()

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        if not self._stopping:
            log.info("stopping", extra={"signal": signal.Signals(signum).name})
        self._stopping = True
        if self._loading:
            raise _Stop

    def _supervise(self) -> int:
        while not self._stopping:
            with contextlib.suppress(InterruptedError):
                select.select([self._wakeup_r], [], [], 1.0)
            with contextlib.suppress(BlockingIOError):
                os.read(self._wakeup_r, 512)
            for pid, status in self._reap():
                if pid == self.loading_pid:
                    self.loading_pid = None
                    continue
                if pid not in self.workers or self._stopping:
                    continue
                del self.workers[pid]
                log.error("worker exited", extra={"worker_pid": pid, "status": _describe(status)})
                if self._crashed_too_often():
                    log.error("workers keep crashing; giving up")
                    return EXIT_WORKERS_CRASHING
                self.workers[self._fork(model=self.model)] = time.monotonic()
        return EXIT_OK

    def _crashed_too_often(self) -> bool:
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > CRASH_WINDOW_SECONDS:
            self._crashes.popleft()
        return len(self._crashes) > MAX_CRASHES

    def _reap(self) -> list[tuple[int, int]]:
        exited = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            exited.append((pid, status))
            self._mark_dead(pid)
        return exited

    def _mark_dead(self, pid: int) -> None:
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid)

    # -- shutdown ---------------------------------------------------------------------

    def _shutdown(self) -> None:
        """Stop accepting, drain workers, SIGKILL stragglers, clean up."""
        if self._sock is not None:
            self._sock.close()  # workers hold their own copies until they stop accepting
        children = set(self.workers)
        if self.loading_pid is not None:
            children.add(self.loading_pid)
        for pid in children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.graceful_timeout_seconds + KILL_MARGIN_SECONDS
        while children and time.monotonic() < deadline:
            for pid, _ in self._reap():
                children.discard(pid)
            if children:
                time.sleep(0.05)
        for pid in children:
            log.error("worker did not stop in time; killing it", extra={"worker_pid": pid})
            _signal(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while children:
                pid, _ = os.waitpid(-1, 0)
                children.discard(pid)
        if self._metrics_dir is not None:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
        log.info("stopped")


def _select_retrying(fd: int, timeout_seconds: float) -> tuple[list[int], list[int], list[int]]:
    """select() on one fd for reading, retried when a signal interrupts it."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            return select.select([fd], [], [], remaining)
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def serve(settings: Settings) -> int:
    """Run the server in this process; returns the exit code."""
    return Server(settings).run()
