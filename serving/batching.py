"""Run model calls, merging concurrent requests into one call.

A worker's event loop must stay free to answer ``/ping`` and read bodies while a model
computes, so calls run on a small thread pool, where the request deadline is enforced.
Handing a call to a thread and back costs about 0.1 ms, though, which is most of the
cost of a small scikit-learn model; so a queue may run calls *inline* on the event loop
when the model has proved fast: its last ``INLINE_WINDOW`` calls of at most
``INLINE_MAX_ROWS`` rows all took under ``inline_budget_seconds``. One slow call sends
the following ones back to the threads.

When requests wait, those with the same merge key (same options, same row width and
type) are stacked into one call of up to ``max_rows`` rows: a model call on 16 rows costs
little more than on one, so throughput under load rises while a lone request waits for
nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

#: Calls remembered to decide whether the model is fast enough to run inline.
INLINE_WINDOW = 64
#: Calls measured (on threads) before the first inline call.
INLINE_LEARN_CALLS = 8
#: Larger calls always run on a thread.
INLINE_MAX_ROWS = 64

#: ``(True, value)`` or ``(False, exception)`` for one job.
Outcome = tuple[bool, Any]
#: Runs a list of payloads in a worker thread, one outcome per payload, in order.
BatchFunction = Callable[[list[Any]], list[Outcome]]


@dataclass(eq=False)
class Job:
    """One request's work. ``on_done`` runs on the event loop once the work has finished
    (even when the request stopped waiting for it), so limits track real work."""

    payload: Any
    key: Hashable | None
    rows: int
    future: asyncio.Future[Any]
    on_done: Callable[[], None] = field(default=lambda: None)


class WorkQueue:
    """A FIFO of jobs served by ``threads`` threads (or inline), merging compatible jobs.

    Jobs whose ``key`` is None are never merged. ``on_batch(rows)`` is called for every
    call made (for the batch-size metric). ``inline_budget_seconds`` 0 (the default)
    never runs calls on the event loop.
    """

    def __init__(
        self,
        run_batch: BatchFunction,
        threads: int = 1,
        max_rows: int = 256,
        on_batch: Callable[[int], None] | None = None,
        inline_budget_seconds: float = 0.0,
    ) -> None:
        self._run_batch = run_batch
        self._threads = threads
        self._max_rows = max_rows
        self._on_batch = on_batch or (lambda rows: None)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="predict")
        self._pending: deque[Job] = deque()
        self._running = 0
        self._inline_budget = inline_budget_seconds
        self._recent: deque[float] = deque(maxlen=INLINE_WINDOW)
        self._inline_scheduled = False

    def submit(
        self,
        payload: Any,
        *,
        key: Hashable | None = None,
        rows: int = 1,
        on_done: Callable[[], None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue ``payload``; the future resolves to its value or raises its exception."""
        loop = asyncio.get_running_loop()
        job = Job(payload, key, rows, loop.create_future(), on_done or (lambda: None))
        self._pending.append(job)
        self._dispatch(loop)
        return job.future

    def close(self) -> None:
        """Stop the threads once the current calls finish; queued jobs are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def runs_inline(self) -> bool:
        """Whether the next small call would run on the event loop."""
        return (
            self._inline_budget > 0
            and len(self._recent) >= INLINE_LEARN_CALLS
            and max(self._recent) <= self._inline_budget
        )

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._running < self._threads and self._pending:
            if self._running == 0 and self.runs_inline:
                # Run after the requests already read in this loop iteration have queued,
                # so they share the call.
                if not self._inline_scheduled:
                    self._inline_scheduled = True
                    loop.call_soon(self._run_inline, loop)
                return
            jobs = self._take()
            if jobs:
                self._start_thread(loop, jobs)

    def _start_thread(self, loop: asyncio.AbstractEventLoop, jobs: list[Job]) -> None:
        self._running += 1
        rows = sum(job.rows for job in jobs)
        self._on_batch(rows)
        started = time.perf_counter()
        done = loop.run_in_executor(self._executor, self._run_batch, [j.payload for j in jobs])
        done.add_done_callback(
            lambda result: self._finish(loop, jobs, result, rows, time.perf_counter() - started)
        )

    def _run_inline(self, loop: asyncio.AbstractEventLoop) -> None:
        self._inline_scheduled = False
        if self._running == 0 and self._pending:
            jobs = self._take()
            rows = sum(job.rows for job in jobs)
            if jobs and rows > INLINE_MAX_ROWS:
                self._start_thread(loop, jobs)
            elif jobs:
                self._on_batch(rows)
                started = time.perf_counter()
                try:
                    outcomes = self._run_batch([job.payload for job in jobs])
                except Exception as exc:
                    outcomes = [(False, exc)] * len(jobs)
                self._record(rows, time.perf_counter() - started)
                self._resolve(jobs, outcomes)
        self._dispatch(loop)

    def _record(self, rows: int, seconds: float) -> None:
        if rows <= INLINE_MAX_ROWS:
            self._recent.append(seconds)

    def _take(self) -> list[Job]:
        """The next job and any queued jobs that may share its call."""
        first = self._pending.popleft()
        if first.future.done():  # cancelled while queued: nothing to compute
            first.on_done()
            return []
        jobs, rows = [first], first.rows
        if first.key is None or self._max_rows == 0:
            return jobs
        kept: deque[Job] = deque()
        while self._pending:
            job = self._pending.popleft()
            if job.key == first.key and rows + job.rows <= self._max_rows:
                if job.future.done():
                    job.on_done()
                    continue
                jobs.append(job)
                rows += job.rows
            else:
                kept.append(job)
        self._pending = kept
        return jobs

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        jobs: list[Job],
        result: asyncio.Future[Any],
        rows: int,
        seconds: float,
    ) -> None:
        self._running -= 1
        self._record(rows, seconds)
        try:
            outcomes = result.result()
        except BaseException as exc:  # the batch function itself broke, or was cancelled
            outcomes = [(False, exc)] * len(jobs)
        self._resolve(jobs, outcomes)
        self._dispatch(loop)

    @staticmethod
    def _resolve(jobs: list[Job], outcomes: list[Outcome]) -> None:
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            job.on_done()
            if job.future.done():
                continue
            if ok:
                job.future.set_result(value)
            elif isinstance(value, asyncio.CancelledError):
                job.future.cancel()
            else:
                job.future.set_exception(value)
