"""The loop's stack rules beyond their one fixture each: every way a pipeline trigger can
reach further than its pipeline, Model Monitor schedules running undeclared jobs, and both
rules on the production stack's planned resources (where names are filled in as the engine
fills them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from mlstack.checks import evaluate
from mlstack.offline.plan import Plan
from policy_pack.rules import Resource, StackContext, StackRule, rule_named
from tests.policy_pack.stack_fixtures import _r, compliant_stack, drop, edit

PRODUCTION = StackContext(stack="production", environment="production")
TRIGGERS = "pipeline-triggers-scoped"
MONITORS = "monitoring-schedule-job-declared"


def _messages(name: str, resources: list[Resource]) -> list[str]:
    rule = rule_named(name)
    assert isinstance(rule, StackRule)
    return [v.message for v in rule.check(resources, PRODUCTION)]


def _pattern(pattern: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda inputs: inputs.update(eventPattern=json.dumps(pattern))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            edit("drift-rule", _pattern({"source": ["mlstack.retrain"]})),
            'on events from "mlstack.retrain", which anyone allowed events:PutEvents can send',
        ),
        (
            edit("drift-rule", _pattern({"detail-type": ["Retrain"]})),
            "on events of any source",
        ),
        (
            edit("drift-start", lambda i: i.pop("roleArn")),
            "EventBridge target drift-start starts a pipeline without a role",
        ),
        (
            edit(
                "schedule",
                lambda i: i["target"].update(roleArn="arn:aws:iam::123456789012:role/admin"),
            ),
            "as arn:aws:iam::123456789012:role/admin, a role this stack does not declare",
        ),
        (
            lambda resources: [
                *resources,
                _r(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "drift-role-extra",
                    {
                        "role": "drift-role-1",
                        "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly",
                    },
                ),
            ],
            "has arn:aws:iam::aws:policy/AmazonSageMakerReadOnly attached",
        ),
        (
            edit(
                "drift-role",
                lambda i: i["inlinePolicies"][0].update(
                    policy=json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sagemaker:*",
                                    "Resource": "arn:aws:sagemaker:us-east-1:123456789012:"
                                    "pipeline/other",
                                }
                            ]
                        }
                    )
                ),
            ),
            "may start arn:aws:sagemaker:us-east-1:123456789012:pipeline/other, not only",
        ),
    ],
    ids=["custom-source", "no-source", "no-role", "foreign-role", "attached", "other-pipeline"],
)
def test_a_trigger_reaching_beyond_its_pipeline_is_a_violation(
    change: Callable[[list[Resource]], list[Resource]], expected: str
) -> None:
    assert _messages(TRIGGERS, compliant_stack()) == []
    messages = _messages(TRIGGERS, change(compliant_stack()))
    assert any(expected in m for m in messages), messages


def test_values_known_only_after_deployment_are_not_violations() -> None:
    unknown = "(known after apply)"
    stack = edit("schedule", lambda i: i["target"].update(arn=unknown, roleArn=unknown))(
        compliant_stack()
    )
    stack = edit("drift-rule", lambda i: i.update(eventPattern=unknown))(stack)
    assert _messages(TRIGGERS, stack) == []


def test_a_schedule_must_run_a_declared_job_of_its_kind() -> None:
    assert _messages(MONITORS, compliant_stack()) == []
    # drift-job-1 exists, but as a data-quality job.
    wrong_kind = edit(
        "quality-schedule",
        lambda i: i["monitoringScheduleConfig"].update(monitoringJobDefinitionName="drift-job-1"),
    )(compliant_stack())
    (message,) = _messages(MONITORS, wrong_kind)
    assert "runs job definition drift-job-1, which this stack does not declare as a " in message
    # Without a type, any declared job of that name will do; dropping it will not.
    untyped = edit(
        "drift-schedule", lambda i: i["monitoringScheduleConfig"].pop("monitoringType", None)
    )
    assert _messages(MONITORS, untyped(compliant_stack())) == []
    assert _messages(MONITORS, drop("drift-job")(untyped(compliant_stack())))


def _broken(plan: Plan, name: str, change: Callable[[dict[str, Any]], None]) -> Plan:
    document = copy.deepcopy(plan.to_json())
    (resource,) = [r for r in document["resources"] if r["name"] == name]
    change(resource["inputs"])
    return Plan.from_json(document)


def test_the_rules_check_the_planned_production_loop(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    assert evaluate(plan) == []

    def any_pipeline(inputs: dict[str, Any]) -> None:
        policy = json.loads(inputs["policy"])
        policy["Statement"][0]["Resource"] = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/*"
        inputs["policy"] = json.dumps(policy)

    broken = _broken(plan, "churn-classifier-retraining-drift-role-policy", any_pipeline)
    found = [(r.policy, r.message) for r in evaluate(broken)]
    assert [p for p, _ in found] == [TRIGGERS], found
    assert "churn-classifier-retraining-drift-role" in found[0][1]

    def elsewhere(inputs: dict[str, Any]) -> None:
        inputs["monitoringScheduleConfig"]["monitoringJobDefinitionName"] = "made-by-hand"

    broken = _broken(plan, "churn-classifier-monitors-quality-schedule", elsewhere)
    assert [r.policy for r in evaluate(broken)] == [MONITORS]
