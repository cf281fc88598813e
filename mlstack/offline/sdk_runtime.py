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
- a resource's properties wait on one future each, not four and a task
  (:func:`transfer_properties`);
- an Output is tracked for the final wait without a callback to untrack it when it resolves
  (:func:`track_until_the_wait`);
- the URN the SDK would answer in place of a missing monitor is computed as a string
  (:func:`create_urn`);
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

from pulumi import Output, Resource
from pulumi import _types as sdk_types
from pulumi import output as sdk_output
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc as runtime_rpc
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


def transfer_properties(
    res: Resource, props: dict[str, Any], custom: bool
) -> dict[str, runtime_rpc.Resolver]:
    """The SDK's ``transfer_properties`` (``runtime/rpc.py``) with one future per property.

    Before a resource is registered, the SDK gives it an Output for every property its class
    declares (a ``MetricAlarm`` has 29), each built from four futures (value, known, secret,
    dependencies) and a task that gathers them. The SDK's own URN and ID outputs are built
    from one future holding all four (``resource_output``); here every property is. The
    resolver sets what the SDK's sets, with the same dependencies (the resource and those
    the engine reports) and the same failure."""
    resolvers: dict[str, runtime_rpc.Resolver] = {}
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # the SDK resolves these apart
        data: asyncio.Future[sdk_output._OutputData[Any]] = asyncio.Future()
        resolvers[name] = functools.partial(_resolve_property, res, data)
        res.__dict__[name] = Output._from_data(data)
    return resolvers


def _resolve_property(
    res: Resource,
    data: asyncio.Future[sdk_output._OutputData[Any]],
    value: Any,
    is_known: bool,
    is_secret: bool,
    deps: set[Resource] | None,
    failed: Exception | None,
) -> None:
    if failed is not None:
        data.set_exception(failed)
        return
    resources = set(deps) if deps else set()
    resources.add(res)
    data.set_result(
        sdk_output._OutputData(
            resources=resources, value=value, is_known=is_known, is_secret=is_secret
        )
    )


def track_until_the_wait(self: Output[Any]) -> None:
    """Stands in for ``Output._track`` (``output.py``): the Output joins the set the final
    wait awaits, and stays there.

    The SDK adds a callback to every Output that takes it out of the set once it resolves,
    so that its own wait has fewer to go through. The offline wait (:func:`wait_for_rpcs`)
    awaits the whole set at once, where a resolved Output costs nothing; a failed one is
    raised there, as the SDK raises it."""
    settings = runtime_settings.SETTINGS
    with settings.lock:
        settings.outputs.add(self._data)


def create_urn(
    name: Any, type_: Any, parent: Any = None, project: str | None = None, stack: str | None = None
) -> Output[str]:
    """The SDK's ``create_urn`` (``runtime/resource.py``), computed as a string when every
    part is one.

    The SDK computes a URN of its own for every registration, in case no monitor answers,
    from three Outputs joined by ``Output.all`` and an ``apply``; the offline monitor always
    answers. Plain parts give the same text with no dependencies, known and not secret; an
    Output or a resource among the parts goes to the SDK's own."""
    if not (isinstance(name, str) and isinstance(type_, str)):
        return _SDK_CREATE_URN(name, type_, parent, project, stack)
    if parent is None:
        stack = stack if stack is not None else runtime_settings.get_stack()
        project = project if project is not None else runtime_settings.get_project()
        prefix = f"urn:pulumi:{stack}::{project}::"
    elif isinstance(parent, str):
        prefix = parent[: parent.rfind("::")] + "$"
    else:
        return _SDK_CREATE_URN(name, type_, parent, project, stack)
    data: asyncio.Future[sdk_output._OutputData[str]] = asyncio.Future()
    data.set_result(
        sdk_output._OutputData(
            resources=set(), value=f"{prefix}{type_}::{name}", is_known=True, is_secret=False
        )
    )
    return Output._from_data(data)


_SDK_CREATE_URN = runtime_resource.create_urn


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
        runtime_resource.create_urn,
        runtime_rpc.transfer_properties,
        Output._track,
        sdk_types.unwrap_type,
        sdk_types.unwrap_optional_type,
    )
    collecting = gc.isenabled()
    loop.set_default_executor(OnTheLoopThread())
    runtime_stack.wait_for_rpcs = wait_for_rpcs  # type: ignore[assignment]
    runtime_resource._get_stack_trace = no_stack_trace
    runtime_resource.create_urn = create_urn  # type: ignore[assignment]
    runtime_rpc.transfer_properties = transfer_properties  # type: ignore[assignment]
    Output._track = track_until_the_wait  # type: ignore[method-assign]
    sdk_types.unwrap_type = _CACHED_UNWRAP_TYPE  # type: ignore[assignment]
    sdk_types.unwrap_optional_type = _CACHED_UNWRAP_OPTIONAL_TYPE  # type: ignore[assignment]
    gc.disable()
    try:
        yield
    finally:
        (
            runtime_stack.wait_for_rpcs,
            runtime_resource._get_stack_trace,
            runtime_resource.create_urn,
            runtime_rpc.transfer_properties,
            Output._track,
            sdk_types.unwrap_type,
            sdk_types.unwrap_optional_type,
        ) = saved  # type: ignore[assignment]
        if collecting:
            gc.enable()
