"""Run the policy rules over an offline plan, at the stack's enforcement level.

The plan holds each resource's inputs as the program sent them. Before a policy pack sees
them, the engine lets the provider fill auto-generated names (``name``, ``bucket``, ...); the
offline plan does the same here with the names its mocks give, so rules that tie resources
together by name (an endpoint and its rollback alarms) see what they would see in a preview.
"""

from __future__ import annotations

from pulumi.runtime import MockResourceArgs

from mlstack.offline.mocks import AUTONAME_PROPERTY, OfflineMocks
from mlstack.offline.plan import Plan, PolicyResult
from policy_pack.rules import (
    RESOURCE_RULES,
    STACK_RULES,
    Resource,
    ResourceRule,
    Rule,
    Scope,
    StackContext,
    StackRule,
)
from policy_pack.settings import enforcement, stack_context


def stack_enforcement(plan: Plan) -> str:
    """The enforcement level of the planned stack: its declared tier's, or stricter."""
    return enforcement(plan.tier, plan.config)


def policy_resources(plan: Plan) -> list[Resource]:
    """The plan's custom resources as rules see them: inputs plus provider-filled names."""
    mocks = OfflineMocks(region=plan.config.get("aws:region", "us-east-1"))
    resources = []
    for planned in plan.resources:
        if not planned.custom:
            continue
        inputs = dict(planned.inputs)
        resource_id, state = mocks.new_resource(
            MockResourceArgs(planned.type, planned.name, dict(planned.inputs), custom=True)
        )
        name_property = AUTONAME_PROPERTY.get(planned.type)
        if name_property and not inputs.get(name_property) and state.get(name_property):
            inputs[name_property] = state[name_property]
        resources.append(
            Resource(
                urn=planned.urn,
                type=planned.type,
                name=planned.name,
                inputs=inputs,
                id=resource_id,
            )
        )
    return resources


def applies(rule: Rule, context: StackContext) -> bool:
    """Whether a rule runs on a stack (production-only rules skip other stacks)."""
    return not isinstance(rule, StackRule) or rule.scope is Scope.ALL or context.is_production


def run_rules(
    resources: list[Resource],
    context: StackContext,
    level: str,
    resource_rules: tuple[ResourceRule, ...] = RESOURCE_RULES,
    stack_rules: tuple[StackRule, ...] = STACK_RULES,
) -> list[PolicyResult]:
    """Every violation of the rules over ``resources``, reported at ``level``."""
    results: list[PolicyResult] = []
    for rule in resource_rules:
        for resource in resources:
            if rule.applies_to(resource.type):
                results.extend(
                    PolicyResult(policy=rule.name, level=level, urn=resource.urn, message=m)
                    for m in rule.check(resource.type, resource.inputs)
                )
    for stack_rule in stack_rules:
        if applies(stack_rule, context):
            results.extend(
                PolicyResult(policy=stack_rule.name, level=level, urn=v.urn, message=v.message)
                for v in stack_rule.check(resources, context)
            )
    return results


def evaluate(plan: Plan) -> list[PolicyResult]:
    """Every violation of every rule in the plan, at the stack's enforcement level."""
    context = stack_context(plan.stack, plan.tier, plan.config)
    return run_rules(policy_resources(plan), context, stack_enforcement(plan))
