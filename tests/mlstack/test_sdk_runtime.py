"""How the offline plan runs the Pulumi SDK: what it changes while a program runs, that it puts
the SDK back afterwards, and that the changed parts answer as the SDK's own."""

from __future__ import annotations

import asyncio
import gc
import typing
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi import _types as sdk_types
from pulumi.runtime import MockResourceArgs, rpc
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack

from mlstack.offline.harness import run_plan
from mlstack.offline.mocks import MocksMustReturnPlainValues, OfflineMocks, serialize_answer
from mlstack.offline.plan import Plan
from mlstack.offline.sdk_runtime import (
    _CACHED_UNWRAP_OPTIONAL_TYPE,
    _CACHED_UNWRAP_TYPE,
    _SDK_CREATE_URN,
    _SDK_UNWRAP_OPTIONAL_TYPE,
    _SDK_UNWRAP_TYPE,
    OnTheLoopThread,
    create_urn,
    transfer_properties,
)

PROBE = """
import asyncio, gc, threading
import pulumi

ran_on = []
asyncio.get_event_loop().run_in_executor(None, lambda: ran_on.append(threading.get_ident()))
pulumi.CustomResource("test:index:Thing", "thing", {"size": 1})
pulumi.export("collecting", gc.isenabled())
pulumi.export("executorRanAtOnceOnTheLoopThread", ran_on == [threading.get_ident()])
"""


def _project(root: Path, program: str) -> Path:
    (root / "prog").mkdir(parents=True)
    (root / "prog" / "__main__.py").write_text(program)
    (root / "Pulumi.yaml").write_text("name: probe\nruntime: python\nmain: prog/\n")
    (root / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    return root


def _sdk_parts() -> tuple[object, ...]:
    return (
        runtime_stack.wait_for_rpcs,
        runtime_resource._get_stack_trace,
        runtime_resource.create_urn,
        rpc.transfer_properties,
        pulumi.Output._track,
        sdk_types.unwrap_type,
        sdk_types.unwrap_optional_type,
    )


@pytest.fixture
def collecting() -> Iterator[None]:
    """The collector on, as a fresh interpreter has it, and as it was afterwards."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_program_runs_without_the_collector_and_the_monitor_on_the_loop_thread(
    tmp_path: Path, collecting: None
) -> None:
    plan = run_plan("dev", _project(tmp_path, PROBE))
    assert plan.outputs == {"collecting": False, "executorRanAtOnceOnTheLoopThread": True}
    assert gc.isenabled()


def test_the_sdk_is_put_back_after_a_plan_and_after_a_failing_one(
    tmp_path: Path, collecting: None
) -> None:
    before = _sdk_parts()
    run_plan("dev", _project(tmp_path / "fine", PROBE))
    assert _sdk_parts() == before
    failing = _project(tmp_path / "failing", PROBE + "raise RuntimeError('the program failed')\n")
    with pytest.raises(RuntimeError, match="the program failed"):
        run_plan("dev", failing)
    assert _sdk_parts() == before
    assert gc.isenabled()


def test_a_collector_turned_off_before_the_plan_stays_off(tmp_path: Path) -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        run_plan("dev", _project(tmp_path, PROBE))
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_the_loop_executor_runs_at_once_and_hands_over_failures() -> None:
    executor = OnTheLoopThread()
    done = executor.submit(lambda a, b: a + b, 2, b=3)
    assert done.done() and done.result() == 5
    failed = executor.submit(lambda: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)


def _annotations() -> list[object]:
    """The annotations the SDK unwraps for a few pulumi-aws resources: their inputs' (from the
    Args classes, with ``Input`` and ``Optional``) and their outputs'."""
    found: list[object] = []
    for args in (
        aws.cloudwatch.MetricAlarmArgs,
        aws.sagemaker.EndpointConfigurationArgs,
        aws.sagemaker.EndpointDeploymentConfigArgs,
        aws.iam.RoleArgs,
    ):
        found += sdk_types.input_type_types(args).values()
    for resource in (aws.cloudwatch.MetricAlarm, aws.sagemaker.Endpoint, aws.iam.Role):
        found += sdk_types.resource_types(resource).values()
    return found


def test_cached_type_unwrapping_answers_as_the_sdk() -> None:
    annotations = _annotations()
    assert len(annotations) > 50
    for annotation in annotations * 2:  # the second time from the cache
        assert _CACHED_UNWRAP_TYPE(annotation) == _SDK_UNWRAP_TYPE(annotation)
        assert _CACHED_UNWRAP_OPTIONAL_TYPE(annotation) == _SDK_UNWRAP_OPTIONAL_TYPE(annotation)
    unhashable = typing.Annotated[str | None, {"not": "hashable"}]
    with pytest.raises(TypeError):
        hash(unhashable)
    assert _CACHED_UNWRAP_OPTIONAL_TYPE(unhashable) == _SDK_UNWRAP_OPTIONAL_TYPE(unhashable)


def _sdk_serialized(values: dict) -> object:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(values, {}))
    finally:
        loop.close()


def test_mock_answers_serialize_as_the_sdk_serializes_them(
    shipped_plans: dict[str, Plan],
) -> None:
    mocks = OfflineMocks(region="us-east-1")
    answers = [
        mocks.new_resource(
            MockResourceArgs(r.type, r.name, dict(r.inputs), r.provider, None, r.custom)
        )[1]
        for plan in shipped_plans.values()
        for r in plan.resources
    ]
    answers += [
        {"absent": None, "nested": {"none": None, "list": [1, 2.5, True, None, "x"]}},
        {"unknown": pulumi.output.UNKNOWN, "tuple": ("a", "b"), "count": 3},
        {"endpoint": rpc.wrap_rpc_secret("https://hooks.example.com/token"), "port": 443},
    ]
    for answer in answers:
        assert serialize_answer(answer, "a resource") == _sdk_serialized(answer)


def test_mocks_answering_with_a_pending_value_fail_with_a_message() -> None:
    loop = asyncio.new_event_loop()
    try:
        pending = loop.create_future()
        with pytest.raises(MocksMustReturnPlainValues, match="resource test:index:Thing 'thing'"):
            serialize_answer({"arn": pending}, "resource test:index:Thing 'thing'")
    finally:
        loop.close()


@pytest.fixture
def outputs_outside_a_plan() -> Iterator[None]:
    """Outputs made outside a plan join the SDK's set of outputs for the final wait; a failed
    one stays there, and the next plan would take it for an early declaration."""
    yield
    settings = runtime_settings.SETTINGS
    with settings.lock:
        settings.outputs.clear()
    # A failed property leaves futures whose error nobody reads (the SDK's, three of four);
    # their finalizers report it. They run here, not inside whatever the collector interrupts
    # next (in Python 3.11.7, compiling a module: a SystemError).
    gc.collect()


class _Holder:
    """Stands in for a resource: the SDK only writes Outputs into its ``__dict__`` and adds it
    to each property's dependencies."""


async def _output_data(output: pulumi.Output) -> tuple[object, ...]:
    data = await output._data
    return (data.value, data.is_known, data.is_secret, data.resources)


async def _transferred(transfer, outcome: dict) -> dict[str, object]:
    """Transfer ``outcome``'s properties onto a holder with ``transfer`` and resolve each
    with its arguments; then what every property's Output holds, or the error it raises."""
    holder, dependency = _Holder(), _Holder()
    resolvers = transfer(holder, dict.fromkeys(["urn", "id", *outcome]), True)
    assert set(resolvers) == set(outcome)
    for name, (value, known, secret, failed) in outcome.items():
        resolvers[name](value, known, secret, {dependency}, failed)
    seen: dict[str, object] = {}
    for name in outcome:
        try:
            value, known, secret, resources = await _output_data(holder.__dict__[name])
        except RuntimeError as err:
            seen[name] = ("raised", str(err))
        else:
            named = {"holder" if r is holder else "dependency" for r in resources}
            seen[name] = (value, known, secret, sorted(named))
    return seen


def test_transferred_properties_resolve_as_the_sdks(outputs_outside_a_plan: None) -> None:
    failure = RuntimeError("the registration failed")
    outcome = {
        "arn": ("arn:aws:sns:us-east-1:1:alarms", True, False, None),
        "pending": (None, False, False, None),
        "token": ("s3cr3t", True, True, None),
        "nested": ({"list": [1, pulumi.output.UNKNOWN]}, True, False, None),
        "broken": (None, False, False, failure),
    }
    loop = asyncio.new_event_loop()
    try:
        ours = loop.run_until_complete(_transferred(transfer_properties, outcome))
        sdks = loop.run_until_complete(_transferred(rpc.transfer_properties, outcome))
    finally:
        loop.close()
    assert ours == sdks
    assert ours["nested"][1] is False  # an unknown inside makes it unknown, as the SDK has it
    assert ours["broken"] == ("raised", "the registration failed")


async def _urn(make, *args: object) -> tuple[object, ...]:
    output = make(*args)
    return (
        await output.future(),
        await output.is_known(),
        await output.is_secret(),
        await output.resources(),
    )


def test_created_urns_are_the_sdks(outputs_outside_a_plan: None) -> None:
    parent = "urn:pulumi:prod::mlstack::mlstack:serving:Endpoint::churn"
    cases = [
        ("churn-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm", None, "mlstack", "prod"),
        ("churn-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm", parent, None, None),
    ]
    loop = asyncio.new_event_loop()
    try:
        for case in cases:
            ours = loop.run_until_complete(_urn(create_urn, *case))
            sdks = loop.run_until_complete(_urn(_SDK_CREATE_URN, *case))
            assert ours == sdks
        assert ours[0] == (
            "urn:pulumi:prod::mlstack::mlstack:serving:Endpoint$"
            "aws:cloudwatch/metricAlarm:MetricAlarm::churn-alarm"
        )
    finally:
        loop.close()


FAILING_APPLY = """
import pulumi

thing = pulumi.CustomResource("test:index:Thing", "thing", {"size": 1})

def refuse(size):
    raise ValueError("size %s refused by the program" % size)

pulumi.Output.from_input(thing.urn).apply(refuse)
"""


def test_a_failing_apply_still_fails_the_plan(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="refused by the program"):
        run_plan("dev", _project(tmp_path, FAILING_APPLY))
