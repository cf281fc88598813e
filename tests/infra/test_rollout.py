"""infra/rollout.py: one spec compiled to SageMaker deployment configs and Kubernetes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic.alias_generators import to_camel

from infra.config.rollout import RolloutPolicy
from infra.rollout import (
    Step,
    compile_argo_canary,
    compile_argo_canary_steps,
    compile_kubernetes_strategy,
    sagemaker_deployment,
    timeline,
    timeline_from_sagemaker,
    traffic_steps,
)

ALARMS = [{"metric": "latency-p99", "threshold": 500}, {"metric": "errors-5xx", "threshold": 1}]


def policy(**fields: Any) -> RolloutPolicy:
    raw = {"rollbackAlarms": ALARMS, "bakeSeconds": 600, **fields}
    return RolloutPolicy.model_validate_json(json.dumps(raw))


def deploy(spec: RolloutPolicy, alarm_names: list[str]) -> dict[str, Any]:
    return sagemaker_deployment(spec).deployment_config(alarm_names)


def camel(value: Any) -> Any:
    """Keys as the engine receives them (what a plan holds)."""
    if isinstance(value, dict):
        return {to_camel(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def test_canary_compiles_to_blue_green_canary_with_rollback_alarms() -> None:
    spec = policy(
        strategy="canary",
        stepPercent=10,
        terminationWaitSeconds=600,
        maximumExecutionTimeoutSeconds=7200,
    )
    assert deploy(spec, ["a", "b"]) == {
        "blue_green_update_policy": {
            "traffic_routing_configuration": {
                "type": "CANARY",
                "wait_interval_in_seconds": 600,
                "canary_size": {"type": "CAPACITY_PERCENT", "value": 10},
            },
            "termination_wait_in_seconds": 600,
            "maximum_execution_timeout_in_seconds": 7200,
        },
        "auto_rollback_configuration": {"alarms": [{"alarm_name": "a"}, {"alarm_name": "b"}]},
    }


def test_linear_compiles_to_blue_green_linear() -> None:
    compiled = deploy(policy(strategy="linear", stepPercent=25), ["a"])
    routing = compiled["blue_green_update_policy"]["traffic_routing_configuration"]
    assert routing == {
        "type": "LINEAR",
        "wait_interval_in_seconds": 600,
        "linear_step_size": {"type": "CAPACITY_PERCENT", "value": 25},
    }


def test_all_at_once_compiles_to_blue_green_all_at_once_with_bake() -> None:
    compiled = deploy(policy(strategy="all-at-once", bakeSeconds=300), ["a"])
    routing = compiled["blue_green_update_policy"]["traffic_routing_configuration"]
    assert routing == {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": 300}


def test_rolling_compiles_to_rolling_update_policy() -> None:
    compiled = deploy(policy(strategy="rolling", stepPercent=20), ["a"])
    assert "blue_green_update_policy" not in compiled
    assert compiled["rolling_update_policy"] == {
        "maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": 20},
        "wait_interval_in_seconds": 600,
        "maximum_execution_timeout_in_seconds": 3600,
        "rollback_maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": 100},
    }


def test_no_alarms_means_no_auto_rollback_block() -> None:
    assert "auto_rollback_configuration" not in deploy(policy(strategy="rolling"), [])


@pytest.mark.parametrize(
    ("fields", "weights"),
    [
        ({"strategy": "all-at-once"}, [100]),
        ({"strategy": "canary", "stepPercent": 10}, [10, 100]),
        ({"strategy": "linear", "stepPercent": 30}, [30, 60, 90, 100]),
        ({"strategy": "linear", "stepPercent": 50}, [50, 100]),
        ({"strategy": "rolling"}, [25, 50, 75, 100]),
    ],
)
def test_traffic_steps_end_at_full_traffic(fields: dict[str, Any], weights: list[int]) -> None:
    steps = traffic_steps(policy(**fields))
    assert [s.weight_percent for s in steps] == weights


def test_canary_bakes_once_then_shifts_the_rest() -> None:
    assert traffic_steps(policy(strategy="canary", stepPercent=5)) == [Step(5, 600), Step(100, 0)]


@pytest.mark.parametrize(
    "fields",
    [
        {"strategy": "all-at-once", "bakeSeconds": 120},
        {"strategy": "canary", "stepPercent": 10},
        {"strategy": "linear", "stepPercent": 20},
        {"strategy": "rolling", "stepPercent": 50},
    ],
)
def test_plan_timeline_reads_back_what_the_spec_compiles_to(fields: dict[str, Any]) -> None:
    spec = policy(**fields)
    compiled = camel(deploy(spec, ["latency-p99", "errors-5xx"]))
    assert timeline_from_sagemaker(compiled) == timeline(spec)


def test_timeline_text_names_steps_bakes_and_alarms() -> None:
    text = timeline(policy(strategy="canary", stepPercent=10, terminationWaitSeconds=0))
    assert text.describe() == (
        "10% -> bake 600 s -> 100%, timeout 3600 s, rollback on: latency-p99, errors-5xx"
    )


@pytest.mark.parametrize(
    ("fields", "seconds"),
    [
        ({"strategy": "canary", "stepPercent": 10, "terminationWaitSeconds": 600}, 1200),
        ({"strategy": "linear", "stepPercent": 25, "terminationWaitSeconds": 300}, 2100),
        ({"strategy": "all-at-once", "terminationWaitSeconds": 0}, 600),
        ({"strategy": "rolling", "stepPercent": 50}, 0),
    ],
)
def test_second_fleet_runs_through_every_bake_and_the_old_fleets_grace(
    fields: dict[str, Any], seconds: int
) -> None:
    assert timeline(policy(**fields)).second_fleet_seconds == seconds


def test_timeline_without_alarms_leaves_them_to_the_caller() -> None:
    text = timeline(policy(strategy="canary", stepPercent=10)).describe(with_alarms=False)
    assert text == "10% -> bake 600 s -> 100%, keep old fleet 300 s, timeout 3600 s"


def test_timeline_of_a_rolling_update_keeps_no_old_fleet() -> None:
    text = timeline(policy(strategy="rolling", stepPercent=50, rollbackAlarms=[])).describe()
    assert text == (
        "50% -> bake 600 s -> 100% -> bake 600 s, timeout 3600 s, no automatic rollback"
    )


def test_kubernetes_strategy_carries_the_rollback_checks_to_the_analysis() -> None:
    strategy = compile_kubernetes_strategy(policy(strategy="canary", stepPercent=10))
    assert strategy.needs_argo_rollouts
    assert [(c.metric.value, c.threshold) for c in strategy.checks] == [
        ("latency-p99", 500),
        ("errors-5xx", 1),
    ]
    assert strategy.canary("t")["analysis"]["templates"] == [{"templateName": "t"}]
    assert "analysis" not in strategy.strategy["canary"]


def test_argo_canary_steps_pause_for_each_bake() -> None:
    assert compile_argo_canary_steps(policy(strategy="linear", stepPercent=50)) == [
        {"setWeight": 50},
        {"pause": {"duration": "600s"}},
        {"setWeight": 100},
    ]


def test_argo_canary_runs_analysis_from_the_first_step() -> None:
    canary = compile_argo_canary(policy(strategy="canary", stepPercent=10), "rollback-alarms")
    assert canary["analysis"] == {
        "templates": [{"templateName": "rollback-alarms"}],
        "startingStep": 1,
    }
    # Argo rejects these inside a canary without a traffic router.
    assert "scaleDownDelaySeconds" not in canary
    assert "progressDeadlineAbort" not in canary
    assert canary["maxUnavailable"] == 0


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"strategy": "canary", "stepPercent": 10}, "Rollout"),
        (
            {"strategy": "linear", "stepPercent": 10, "maximumExecutionTimeoutSeconds": 7200},
            "Rollout",
        ),
        ({"strategy": "rolling"}, "Deployment"),
        ({"strategy": "all-at-once"}, "Deployment"),
    ],
)
def test_kubernetes_workload_kind_follows_strategy(fields: dict[str, Any], kind: str) -> None:
    assert compile_kubernetes_strategy(policy(**fields)).kind == kind


def test_kubernetes_rolling_update_never_drops_below_desired_pods() -> None:
    strategy = compile_kubernetes_strategy(policy(strategy="rolling", stepPercent=20)).strategy
    assert strategy == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "20%", "maxUnavailable": 0},
    }
