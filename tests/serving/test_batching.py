"""The work queue merges concurrent requests and keeps their failures apart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from serving.batching import CostModel, WorkQueue
from serving.errors import BadRequest
from serving.invocation import RowInvoker
from serving.models.base import RowModel
from serving.prediction import Prediction


class Doubler(RowModel):
    """Predicts twice the first column; rejects rows holding a negative value."""

    def __init__(self) -> None:
        super().__init__(Path("."))
        self.calls: list[int] = []

    def _load(self) -> None:
        pass

    def predict(self, rows: np.ndarray, probabilities: bool = False) -> Prediction:
        self.calls.append(len(rows))
        if (rows < 0).any():
            raise BadRequest("negative values")
        return Prediction(rows[:, 0] * 2)


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_queued_requests_share_one_model_call_and_get_their_own_rows() -> None:
    model = Doubler()
    batches: list[int] = []

    async def scenario() -> list[Prediction]:
        invoker = RowInvoker(model, lambda fn: WorkQueue(fn, on_batch=batches.append))
        queue = invoker.queue
        first = queue.submit((np.array([[1.0]]), False), key="k", rows=1)
        rest = [
            queue.submit((np.array([[float(i)], [float(i)]]), False), key="k", rows=2)
            for i in (2, 3, 4)
        ]
        return await asyncio.gather(first, *rest)

    results = run(scenario())
    assert [r.outputs.tolist() for r in results] == [[2.0], [4.0, 4.0], [6.0, 6.0], [8.0, 8.0]]
    assert batches == [1, 6]  # the first went alone, the three queued behind it together


def test_a_rejected_request_does_not_fail_the_others_in_its_batch() -> None:
    model = Doubler()

    async def scenario() -> list[object]:
        invoker = RowInvoker(model, lambda fn: WorkQueue(fn))
        queue = invoker.queue
        blocker = queue.submit((np.array([[0.0]]), False), key="k")
        good = queue.submit((np.array([[1.0]]), False), key="k")
        bad = queue.submit((np.array([[-1.0]]), False), key="k")
        return await asyncio.gather(blocker, good, bad, return_exceptions=True)

    _, good, bad = run(scenario())
    assert isinstance(good, Prediction)
    assert good.outputs.tolist() == [2.0]
    assert isinstance(bad, BadRequest)


def test_jobs_with_different_keys_are_not_merged() -> None:
    model = Doubler()

    async def scenario() -> None:
        queue = RowInvoker(model, lambda fn: WorkQueue(fn)).queue
        await asyncio.gather(
            queue.submit((np.array([[1.0]]), False), key="a"),
            queue.submit((np.array([[1.0]]), False), key="b"),
            queue.submit((np.array([[1.0]]), True), key=None),
        )

    run(scenario())
    assert model.calls == [1, 1, 1]


def test_on_done_runs_when_the_work_ends_even_if_nobody_waits() -> None:
    released: list[str] = []

    async def scenario() -> None:
        queue = WorkQueue(lambda payloads: [(True, p) for p in payloads])
        future = queue.submit("x", on_done=lambda: released.append("x"))
        future.cancel()  # the request went away
        await asyncio.sleep(0.05)

    run(scenario())
    assert released == ["x"]


@pytest.mark.parametrize("max_rows", [0, 1])
def test_merging_can_be_turned_off(max_rows: int) -> None:
    model = Doubler()

    async def scenario() -> None:
        queue = RowInvoker(model, lambda fn: WorkQueue(fn, max_rows=max_rows)).queue
        await asyncio.gather(*(queue.submit((np.array([[1.0]]), False), key="k") for _ in range(3)))

    run(scenario())
    assert model.calls == [1, 1, 1]


def test_requests_of_any_size_are_merged_not_only_small_ones() -> None:
    batches: list[int] = []

    async def scenario() -> None:
        queue = WorkQueue(lambda payloads: [(True, p) for p in payloads], on_batch=batches.append)
        await asyncio.gather(*(queue.submit(i, key="k", rows=1000) for i in range(5)))

    run(scenario())
    # The first runs at once; the cost model has seen one size, so it lets twice that in.
    assert batches == [1000, 2000, 2000]


def test_the_cost_model_sizes_calls_from_the_measured_cost_per_row() -> None:
    cost = CostModel()
    assert cost.rows_within(0.05) == 256  # nothing measured yet
    for rows in (1000, 2000) * 4:  # 10 ms per call plus 1 us per row
        cost.record(rows, 0.010 + rows * 1e-6)
    assert cost.per_call == pytest.approx(0.010)
    assert cost.rows_within(0.05) in (49_999, 50_000)  # float rounding
    assert cost.rows_within(0.001) in (999, 1000)
