"""Every shipped stack passes the policy pack: no mandatory violation; production none at all."""

from __future__ import annotations

import pytest

from mlstack.checks import evaluate, policy_resources, stack_enforcement
from mlstack.offline.plan import Plan
from policy_pack.rules import RESOURCE_RULES
from tests.conftest import SHIPPED_STACKS


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_has_no_mandatory_violation(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    results = evaluate(shipped_plans[stack])
    assert [r for r in results if r.level == "mandatory"] == []


def test_production_is_mandatory_and_clean(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    assert stack_enforcement(plan) == "mandatory"
    assert evaluate(plan) == []


def test_rules_see_the_kit_resources(shipped_plans: dict[str, Plan]) -> None:
    """Guards against rules silently matching nothing (a type token typo)."""
    types = {r.type for r in policy_resources(shipped_plans["production"])}
    checked = {t for t in types for rule in RESOURCE_RULES if rule.applies_to(t)}
    for expected in (
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:sagemaker/model:Model",
        "aws:ecr/repository:Repository",
        "aws:sns/topic:Topic",
        "aws:kms/key:Key",
        "aws:scheduler/schedule:Schedule",
        "aws:sagemaker/pipeline:Pipeline",
        "aws-native:sagemaker:ModelQualityJobDefinition",
    ):
        assert expected in checked


def test_auto_named_resources_get_their_planned_names(shipped_plans: dict[str, Plan]) -> None:
    alarms = [
        r
        for r in policy_resources(shipped_plans["production"])
        if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
    ]
    assert alarms and all(a.inputs.get("name") for a in alarms)
