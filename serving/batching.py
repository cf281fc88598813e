"""Run model calls, merging concurrent requests into one call.

A worker's event loop must stay free to answer ``/ping`` and read bodies while a model
computes, so calls run on a small thread pool, where the request deadline is enforced.
Handing a call to a thread and back costs about 0.1 ms, though, which is most of the
cost of a small scikit-learn model; so a queue may run calls *inline* on the event loop
when the model has proved fast: its last ``INLINE_WINDOW`` calls of at most
``INLINE_MAX_ROWS`` rows all took under ``inline_budget_seconds``. One slow call sends
the following ones back to the threads.

When requests wait, those with the same merge key (same options, same row width and
type) are stacked into one call, whatever their size: a model call has a fixed cost
(a forest walks every tree in Python) plus a cost per row, so under load one call for
many requests is much cheaper than one call each, while a lone request waits for
nothing. How many rows a call may take is sized from the model's measured cost: the
queue fits ``seconds = per_call + per_row * rows`` to its recent calls and merges while
the rows added cost at most ``budget_seconds`` (a request is never split, so one larger
than the budget still runs, alone), up to ``max_rows``.

Merging needs requests to be queued together, but under a closed loop of clients the
next requests arrive just after the model call starts, one by one. So when the last
call served several requests and fewer are queued now, the idle queue waits for as many
to arrive, at most half the last call's duration (and at most the budget), before it
starts the next call; a lone client (last call: one request) never waits.

A job whose future ends before its call starts (the client went away, or its deadline
passed) is dropped at once and its ``on_done`` runs, so it stops counting against the
worker's concurrency limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from serving.errors import ClientClosedRequest

#: Calls remembered to decide whether the model is fast enough to run inline.
INLINE_WINDOW = 64
#: Calls measured (on threads) before the first inline call.
INLINE_LEARN_CALLS = 8
#: Larger calls always run on a thread.
INLINE_MAX_ROWS = 64
#: Calls remembered to fit the cost model; it is refitted every COST_REFIT calls.
COST_WINDOW = 64
COST_REFIT = 8
#: Rows a call may take before the cost model has data.
LEARNING_ROWS = 256

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
    started: bool = False


class CostModel:
    """``seconds = per_call + per_row * rows``, fitted to the recent calls.

    ``rows_within(budget)`` is how many rows merging may add to a call while adding at
    most ``budget`` seconds to it (the fixed cost is paid anyway). Until calls of
    different sizes have been seen the per-row cost is unknown; then it allows twice the
    largest call so far (at least :data:`LEARNING_ROWS`), so that merged calls of other
    sizes happen and give the fit its data.
    """

    def __init__(self) -> None:
        self._calls: deque[tuple[int, float]] = deque(maxlen=COST_WINDOW)
        self._since_fit = 0
        self.per_call = 0.0
        self.per_row: float | None = None

    def record(self, rows: int, seconds: float) -> None:
        self._calls.append((rows, seconds))
        self._since_fit += 1
        if self._since_fit >= COST_REFIT:
            self._fit()

    def rows_within(self, budget_seconds: float) -> int:
        if self.per_row is None:
            largest = max((rows for rows, _ in self._calls), default=0)
            return max(LEARNING_ROWS, 2 * largest)
        return max(1, int(budget_seconds / self.per_row))

    def _fit(self) -> None:
        self._since_fit = 0
        count = len(self._calls)
        mean_rows = sum(rows for rows, _ in self._calls) / count
        mean_seconds = sum(seconds for _, seconds in self._calls) / count
        spread = sum((rows - mean_rows) ** 2 for rows, _ in self._calls)
        if spread == 0:
            return  # one size only: nothing tells fixed from per-row cost yet
        slope = sum((rows - mean_rows) * (s - mean_seconds) for rows, s in self._calls) / spread
        # Noise can make the slope tiny or negative; a row never costs less than this.
        floor = min(seconds / rows for rows, seconds in self._calls) / 64
        self.per_row = max(slope, floor)
        self.per_call = max(0.0, mean_seconds - self.per_row * mean_rows)


class WorkQueue:
    """A FIFO of jobs served by ``threads`` threads (or inline), merging compatible jobs.

    Jobs whose ``key`` is None are never merged. ``max_rows`` caps the rows of a merged
    call (default 65,536; 0 never merges) and ``budget_seconds`` the time merging may
    add to it (default 0.1). ``on_batch(rows)`` is called for every call made (for the batch-size
    metric), ``on_dropped()`` for every job dropped before its call started because its
    client went away. ``inline_budget_seconds`` 0 (the default) never runs calls on the
    event loop.
    """

    def __init__(
        self,
        run_batch: BatchFunction,
        threads: int = 1,
        max_rows: int = 65_536,
        budget_seconds: float = 0.1,
        on_batch: Callable[[int], None] | None = None,
        on_dropped: Callable[[], None] | None = None,
        inline_budget_seconds: float = 0.0,
    ) -> None:
        self._run_batch = run_batch
        self._threads = threads
        self._max_rows = max_rows
        self._budget = budget_seconds
        self.cost = CostModel()
        self._on_batch = on_batch or (lambda rows: None)
        self._on_dropped = on_dropped or (lambda: None)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="predict")
        self._pending: deque[Job] = deque()
        self._running = 0
        self._inline_budget = inline_budget_seconds
        self._recent: deque[float] = deque(maxlen=INLINE_WINDOW)
        self._inline_scheduled = False
        self._expected = 1  # requests the last call served: how many to gather next
        self._last_seconds = 0.0
        self._gather: asyncio.TimerHandle | None = None
        self._gathered = False

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
        job.future.add_done_callback(lambda future: self._drop(job, future))
        self._dispatch(loop)
        return job.future

    def _drop(self, job: Job, future: asyncio.Future[Any]) -> None:
        """A job whose future ended before its call started leaves the queue now."""
        if job.started:
            return
        job.started = True  # never run it
        with contextlib.suppress(ValueError):
            self._pending.remove(job)
        job.on_done()
        if not future.cancelled() and isinstance(future.exception(), ClientClosedRequest):
            self._on_dropped()

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
            if self._running == 0 and self._should_gather():
                if self._gather is None:
                    wait = min(self._budget, self._last_seconds / 2)
                    self._gather = loop.call_later(wait, self._end_gathering, loop)
                return
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

    def _should_gather(self) -> bool:
        first = self._pending[0]
        return (
            not self._gathered
            and self._expected > 1
            and len(self._pending) < self._expected
            and first.key is not None
            and self._max_rows != 0
        )

    def _end_gathering(self, loop: asyncio.AbstractEventLoop) -> None:
        self._gather = None
        self._gathered = True
        self._dispatch(loop)

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
        self._last_seconds = seconds
        self.cost.record(rows, seconds)
        if rows <= INLINE_MAX_ROWS:
            self._recent.append(seconds)

    def _take(self) -> list[Job]:
        """The next job and any queued jobs that may share its call (all marked started)."""
        if self._gather is not None:
            self._gather.cancel()
            self._gather = None
        self._gathered = False
        first = self._pending.popleft()
        first.started = True
        jobs, rows = [first], first.rows
        if first.key is None or self._max_rows == 0:
            return jobs
        limit = min(self._max_rows, max(first.rows, self.cost.rows_within(self._budget)))
        kept: deque[Job] = deque()
        while self._pending:
            job = self._pending.popleft()
            if job.key == first.key and rows + job.rows <= limit:
                job.started = True
                jobs.append(job)
                rows += job.rows
            else:
                kept.append(job)
        self._pending = kept
        self._expected = len(jobs)
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
