"""Run the policy rules over an offline plan, at the stack's enforcement level."""

from __future__ import annotations

import json

from infra.offline.plan import Plan, PolicyResult
from infra.policy.rules import RULES, ResourceRule

DEFAULT_ENFORCEMENT = "advisory"


def stack_enforcement(plan: Plan) -> str:
    """``mlstack:policy.enforcement`` of the planned stack (advisory when unset)."""
    raw = plan.config.get("mlstack:policy")
    if not raw:
        return DEFAULT_ENFORCEMENT
    try:
        return str(json.loads(raw).get("enforcement", DEFAULT_ENFORCEMENT))
    except (json.JSONDecodeError, AttributeError):
        return DEFAULT_ENFORCEMENT


def evaluate(plan: Plan, rules: tuple[ResourceRule, ...] = RULES) -> list[PolicyResult]:
    """Every violation of every rule in the plan, at the stack's enforcement level."""
    level = stack_enforcement(plan)
    results: list[PolicyResult] = []
    for rule in rules:
        for resource in plan.resources:
            if resource.type not in rule.resource_types:
                continue
            for message in rule.check(resource.type, resource.inputs):
                results.append(
                    PolicyResult(policy=rule.name, level=level, urn=resource.urn, message=message)
                )
    return results
