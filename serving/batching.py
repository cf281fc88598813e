"""Run model calls off the event loop, merging concurrent requests into one call.

A worker's event loop must stay free to answer ``/ping`` and read bodies while a model
computes, so calls run on a small thread pool. When more requests wait than there are
threads, those with the same merge key (same options, same row width and type) are
stacked into one call of up to ``max_rows`` rows: a model call on 16 rows costs little
more than on one, so throughput under load rises while a lone request waits for nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

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
    """A FIFO of jobs served by ``threads`` threads, merging compatible jobs.

    Jobs whose ``key`` is None are never merged. ``on_batch(rows)`` is called for every
    call made (for the batch-size metric).
    """

    def __init__(
        self,
        run_batch: BatchFunction,
        threads: int = 1,
        max_rows: int = 256,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._run_batch = run_batch
        self._threads = threads
        self._max_rows = max_rows
        self._on_batch = on_batch or (lambda rows: None)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="predict")
        self._pending: deque[Job] = deque()
        self._running = 0

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

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._running < self._threads and self._pending:
            jobs = self._take()
            if not jobs:
                continue
            self._running += 1
            self._on_batch(sum(job.rows for job in jobs))
            done = loop.run_in_executor(self._executor, self._run_batch, [j.payload for j in jobs])
            done.add_done_callback(lambda result, jobs=jobs: self._finish(loop, jobs, result))

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
        self, loop: asyncio.AbstractEventLoop, jobs: list[Job], result: asyncio.Future[Any]
    ) -> None:
        self._running -= 1
        try:
            outcomes = result.result()
        except BaseException as exc:  # the batch function itself broke, or was cancelled
            outcomes = [(False, exc)] * len(jobs)
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
        self._dispatch(loop)
