"""Components declared one at a time on the SDK's mock runtime (the kit's offline mocks), so a
test sees exactly what one component registers for the Args it was given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_in_stack

from mlstack.offline.mocks import OfflineMocks, RecordingMonitor
from mlstack.offline.plan import PlannedResource

REGION = "us-east-1"


@dataclass(frozen=True)
class Declared:
    """What one test's components registered, in registration order."""

    resources: list[PlannedResource]

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        found = self.of_type(type_token)
        assert len(found) == 1, f"{len(found)} x {type_token}"
        return found[0]


class _Root:
    """Stands in as the root resource while ``set_mocks`` runs (no stack of its own)."""


Declare = Callable[[Callable[[], Any]], Declared]


@pytest.fixture
def declare() -> Iterator[Declare]:
    """``declare(lambda: Registry("registry", args))`` runs the callable in a fresh stack on
    the offline mocks and returns what it registered; the runtime is reset afterwards, so the
    whole-program plans of other tests are unaffected. Exceptions raised while declaring
    (``pulumi.ResourceError``) propagate."""
    loops: list[asyncio.AbstractEventLoop] = []

    def run(build: Callable[[], Any]) -> Declared:
        monitor = RecordingMonitor(OfflineMocks(region=REGION))
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)
        runtime_settings.set_root_resource(_Root())  # type: ignore[arg-type]
        pulumi.runtime.set_mocks(
            monitor.mocks, project="mlstack", stack="test", preview=True, monitor=monitor
        )
        runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
        loop.run_until_complete(run_in_stack(build))
        return Declared(monitor.registrations)

    yield run
    for loop in loops:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    asyncio.set_event_loop(None)
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    runtime_settings.configure(runtime_settings.Settings(project=None, stack=None))
