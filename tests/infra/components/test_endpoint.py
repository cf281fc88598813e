"""The SageMaker endpoint through the offline plan: model, configuration, rollout, scaling."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mlstack.offline.plan import Plan, PlannedResource
from tests.infra.components.delivery_helpers import (
    ENDPOINT,
    ENDPOINT_CONFIG,
    MODEL,
    alarms_by_name,
    deployment_config,
    metric_dimensions,
    only,
    rollback_alarm_names,
)

PlanEdited = Callable[[str, Callable[[dict[str, Any]], None]], Plan]
STACKS = ("staging", "production")


def endpoint_models(plan: Plan) -> list[PlannedResource]:
    """The endpoint's models (a batch transform has a model of its own)."""
    return [m for m in plan.of_type(MODEL) if m.name.startswith("sagemaker-")]


def endpoint_model(plan: Plan) -> PlannedResource:
    (model,) = [m for m in endpoint_models(plan) if m.name == "sagemaker-model"]
    return model


@pytest.mark.parametrize("stack", STACKS)
def test_model_serves_the_configured_package_version(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    version = json.loads(plan.config["mlstack:model"])["packageVersion"]
    container = endpoint_model(plan).inputs["primaryContainer"]
    expected = f"model-package/churn-classifier/{version}"
    assert container["modelPackageName"].endswith(expected)
    assert plan.outputs["modelPackageArn"] == container["modelPackageName"]


@pytest.mark.parametrize("stack", STACKS)
def test_model_is_network_isolated(shipped_plans: dict[str, Plan], stack: str) -> None:
    assert endpoint_model(shipped_plans[stack]).inputs["enableNetworkIsolation"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_configuration_encrypts_and_captures(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    config = only(plan, ENDPOINT_CONFIG).inputs
    key = plan.outputs["kmsKeyArn"]
    assert config["kmsKeyArn"] == key
    capture = config["dataCaptureConfig"]
    assert capture["enableCapture"] is True
    assert capture["kmsKeyId"] == key
    assert capture["destinationS3Uri"] == plan.outputs["dataCaptureUri"]
    assert {o["captureMode"] for o in capture["captureOptions"]} == {"Input", "Output"}


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_configuration_is_auto_named(shipped_plans: dict[str, Plan], stack: str) -> None:
    assert "name" not in only(shipped_plans[stack], ENDPOINT_CONFIG).inputs


@pytest.mark.parametrize("stack", STACKS)
def test_every_rollback_alarm_named_by_the_endpoint_exists_in_the_plan(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    names = rollback_alarm_names(plan)
    assert names
    assert set(names) <= set(alarms_by_name(plan))


@pytest.mark.parametrize("stack", STACKS)
def test_rollback_alarms_watch_the_new_fleet(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    alarms = alarms_by_name(plan)
    config_name = plan.outputs["endpointConfigName"]
    for name in rollback_alarm_names(plan):
        for dimensions in metric_dimensions(alarms[name]):
            assert dimensions["EndpointConfigName"] == config_name
            assert dimensions["EndpointName"] == plan.outputs["endpointName"]


@pytest.mark.parametrize("stack", STACKS)
def test_rollback_alarms_cover_latency_and_5xx(shipped_plans: dict[str, Plan], stack: str) -> None:
    alarms = alarms_by_name(shipped_plans[stack])
    metrics = set()
    for name in rollback_alarm_names(shipped_plans[stack]):
        alarm = alarms[name]
        queries = alarm.get("metricQueries") or []
        metrics |= {q["metric"]["metricName"] for q in queries if q.get("metric")}
        metrics.add(alarm.get("metricName"))
    assert {"ModelLatency", "Invocation5XXErrors"} <= metrics


def test_latency_threshold_is_converted_to_microseconds(shipped_plans: dict[str, Plan]) -> None:
    alarm = alarms_by_name(shipped_plans["production"])["mlstack-production-rollback-latency-p99"]
    assert alarm["threshold"] == 500_000
    assert alarm["extendedStatistic"] == "p99"


def test_production_runs_canary_or_linear_with_two_rollback_alarms(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    routing = deployment_config(plan)["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] in ("CANARY", "LINEAR")
    assert len(rollback_alarm_names(plan)) >= 2
    variants = only(plan, ENDPOINT_CONFIG).inputs["productionVariants"]
    assert all(v["initialInstanceCount"] >= 2 for v in variants)


def test_switching_strategy_to_linear_compiles_linear(plan_edited: PlanEdited) -> None:
    def linear(config: dict[str, Any]) -> None:
        config["mlstack:rollout"]["strategy"] = "linear"
        config["mlstack:rollout"]["stepPercent"] = 20

    routing = deployment_config(plan_edited("production", linear))["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing["type"] == "LINEAR"
    assert routing["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 20}


def test_promotion_keeps_the_variant_name_and_endpoint(
    shipped_plans: dict[str, Plan], plan_edited: PlanEdited
) -> None:
    promoted = plan_edited("production", lambda c: c["mlstack:model"].update(packageVersion=7))
    before = only(shipped_plans["production"], ENDPOINT_CONFIG).inputs["productionVariants"]
    after = only(promoted, ENDPOINT_CONFIG).inputs["productionVariants"]
    assert [v["variantName"] for v in after] == [v["variantName"] for v in before]
    assert only(promoted, ENDPOINT).inputs["name"] == "mlstack-production"
    assert promoted.outputs["modelPackageArn"].endswith("/churn-classifier/7")


def test_shadow_variant_samples_another_version(plan_edited: PlanEdited) -> None:
    def shadow(config: dict[str, Any]) -> None:
        config["mlstack:model"]["shadow"] = {"packageVersion": 4, "samplingPercent": 20}

    plan = plan_edited("production", shadow)
    config = only(plan, ENDPOINT_CONFIG).inputs
    (variant,) = config["shadowProductionVariants"]
    assert variant["initialVariantWeight"] == pytest.approx(0.2)
    models = [m.inputs["primaryContainer"]["modelPackageName"] for m in endpoint_models(plan)]
    assert any(m.endswith("/churn-classifier/4") for m in models)


def test_ab_variants_split_traffic_by_weight(plan_edited: PlanEdited) -> None:
    def ab(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"]["abVariants"] = [
            {"name": "challenger", "packageVersion": 5, "weight": 0.25, "instanceCount": 2}
        ]

    plan = plan_edited("production", ab)
    variants = only(plan, ENDPOINT_CONFIG).inputs["productionVariants"]
    assert [(v["variantName"], v["initialVariantWeight"]) for v in variants] == [
        ("AllTraffic", 1.0),
        ("challenger", 0.25),
    ]
    assert len(endpoint_models(plan)) == 2


def test_serverless_option_sets_memory_and_concurrency(plan_edited: PlanEdited) -> None:
    def serverless(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"].update(
            mode="serverless",
            networkIsolation=False,
            dataCapture={"enabled": False},
            serverless={"memorySizeMb": 3072, "maxConcurrency": 10},
        )
        config["mlstack:monitoring"]["drift"] = {"enabled": False}

    plan = plan_edited("staging", serverless)
    (variant,) = only(plan, ENDPOINT_CONFIG).inputs["productionVariants"]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 3072, "maxConcurrency": 10}
    assert "instanceType" not in variant
    assert not plan.of_type("aws:appautoscaling/target:Target")


@pytest.mark.parametrize("stack", STACKS)
def test_autoscaling_tracks_invocations_per_instance(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    scaling = json.loads(plan.config["mlstack:autoscaling"])
    target = only(plan, "aws:appautoscaling/target:Target").inputs
    assert target["resourceId"] == f"endpoint/mlstack-{stack}/variant/AllTraffic"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["minCapacity"], target["maxCapacity"]) == (
        scaling["minInstances"],
        scaling["maxInstances"],
    )
    policy = only(plan, "aws:appautoscaling/policy:Policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )
    assert tracking["targetValue"] == scaling["targetInvocationsPerInstance"]
    assert tracking["scaleInCooldown"] == scaling["scaleInCooldownSeconds"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_exports_endpoint_and_invoke_url(shipped_plans: dict[str, Plan], stack: str) -> None:
    outputs = shipped_plans[stack].outputs
    assert outputs["endpointName"] == f"mlstack-{stack}"
    assert outputs["endpointArn"].endswith(f":endpoint/mlstack-{stack}")
    assert outputs["invokeUrl"] == (
        f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/mlstack-{stack}/invocations"
    )
