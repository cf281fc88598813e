"""The Pulumi SDK as the offline plan runs it: the language host's runtime, with the hot spots
of a run on mocks changed.

A plan registers every resource through the SDK (pulumi 3.272), which was written for a real
engine: answers over gRPC, a debugger-friendly source position per resource, a few resources
at a time. On mocks, with hundreds of resources, these parts of it dominated a plan's time
(profiles in ``docs/plan-performance.md``); :func:`offline_runtime` changes them for the
duration of one plan and puts the SDK back afterwards:

- the output wait at the end of the program is O(n), not O(n^2) (:func:`wait_for_rpcs`);
- no source stack trace is taken per registration (:func:`no_stack_trace`);
- calls to the resource monitor run on the event loop's thread (:class:`OnTheLoopThread`);
- the SDK's unwrapping of type annotations is computed once per annotation (:func:`_cached`);
- the cyclic garbage collector does not run while the program does.

None of them changes what is registered, with which inputs, or what the program reads back:
the shipped stacks' plan documents are byte-for-byte those of the SDK's own runtime
(``tests/test_plan_identity.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pulumi import _types as sdk_types
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack
from pulumi.runtime.proto import source_pb2

_T = TypeVar("_T")


class OnTheLoopThread(concurrent.futures.ThreadPoolExecutor):
    """An event loop's default executor that runs what it is given at once, on the loop's own
    thread, and never starts a thread.

    The SDK hands every call to the resource monitor to ``loop.run_in_executor`` because a
    real engine answers over gRPC and the call blocks. The offline monitor answers from Python
    without blocking (:class:`mlstack.offline.mocks.RecordingMonitor`), so a pool only passed
    each registration to another thread and back under the GIL. (asyncio takes only a
    ``ThreadPoolExecutor`` as a default executor.)"""

    def submit(  # type: ignore[override]
        self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[_T]:
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # handed to the awaiting task, as a pool hands it
            future.set_exception(err)
        return future


async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's ``wait_for_rpcs`` (``runtime/stack.py``), awaiting every outstanding output
    at once instead of one at a time.

    The SDK waits with ``asyncio.wait(outputs, FIRST_COMPLETED)`` in a loop: each round adds
    and removes a callback on every still-pending output, so a program of n outputs costs
    O(n^2) callbacks. A stack of 50 models has about 40,000 outputs, and that loop was a
    third of its plan time. Waiting for all of them per round is the same quiescence, in
    O(n); the first failure is raised as the SDK raises it.
    """
    rpc_manager = runtime_settings._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(
                        rpc_manager.exception_traceback
                    )
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            settings = runtime_settings.SETTINGS
            while True:
                with settings.lock:
                    if not settings.outputs:
                        break
                    pending = list(settings.outputs)
                    settings.outputs.clear()
                done, _ = await asyncio.wait(pending, return_when=asyncio.ALL_COMPLETED)
                for task in done:
                    await task
        if not rpc_manager.rpcs:
            break


def no_stack_trace() -> source_pb2.StackTrace:
    """Stands in for the SDK's ``_get_stack_trace`` (``runtime/resource.py``).

    The SDK walks the Python stack of every registration, reading each frame's source line
    and turning its file name into a URI, so that the engine can show where a resource was
    declared. The mock monitor never reads it and a plan does not record it."""
    return source_pb2.StackTrace()


def _cached(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` of a type annotation, computed once per annotation.

    The SDK's ``unwrap_type`` and ``unwrap_optional_type`` (``_types.py``) take
    ``Optional``, ``Input`` and ``Output`` apart with ``typing.get_origin`` on every property
    of every resource it serializes or resolves, thirty or so per resource; the answer
    depends on the annotation alone. An unhashable annotation is computed afresh."""
    remembered = functools.lru_cache(maxsize=None)(function)

    @functools.wraps(function)
    def lookup(annotation: Any) -> Any:
        try:
            return remembered(annotation)
        except TypeError:
            return function(annotation)

    return lookup


_SDK_UNWRAP_TYPE = sdk_types.unwrap_type
_SDK_UNWRAP_OPTIONAL_TYPE = sdk_types.unwrap_optional_type
_CACHED_UNWRAP_TYPE = _cached(_SDK_UNWRAP_TYPE)
_CACHED_UNWRAP_OPTIONAL_TYPE = _cached(_SDK_UNWRAP_OPTIONAL_TYPE)


@contextmanager
def offline_runtime(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Run the SDK on ``loop`` as the offline plan does (the module's list), and put the SDK
    and the garbage collector back as they were on exit.

    The collector: every resource leaves about 35 Outputs and their tasks, futures and
    callbacks behind, nearly all of them reachable until the program ends (a plan of 50
    models peaks at 217 MB of memory with the collector running, 223 MB without it). The
    collector, started every 700 allocations, traversed that growing heap over and over to
    free almost nothing. It runs again as before once the plan is done, and frees the plan's
    cycles then."""
    saved = (
        runtime_stack.wait_for_rpcs,
        runtime_resource._get_stack_trace,
        sdk_types.unwrap_type,
        sdk_types.unwrap_optional_type,
    )
    collecting = gc.isenabled()
    loop.set_default_executor(OnTheLoopThread())
    runtime_stack.wait_for_rpcs = wait_for_rpcs  # type: ignore[assignment]
    runtime_resource._get_stack_trace = no_stack_trace
    sdk_types.unwrap_type = _CACHED_UNWRAP_TYPE  # type: ignore[assignment]
    sdk_types.unwrap_optional_type = _CACHED_UNWRAP_OPTIONAL_TYPE  # type: ignore[assignment]
    gc.disable()
    try:
        yield
    finally:
        (
            runtime_stack.wait_for_rpcs,
            runtime_resource._get_stack_trace,
            sdk_types.unwrap_type,
            sdk_types.unwrap_optional_type,
        ) = saved  # type: ignore[assignment]
        if collecting:
            gc.enable()
