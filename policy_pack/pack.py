"""The rules as CrossGuard policies: the same rule functions, fed by the Pulumi engine.

pulumi-policy hands a policy the resource's inputs under the engine's camelCase names
(``args.props``), wrapped in read-only proxies that raise ``UnknownValueError`` on any value
unknown during a preview. The adapters below unwrap them into plain dicts and lists first,
keeping unknown placeholders as values, so a rule treats them as set (see
``policy_pack/rules/base.py``) instead of aborting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy_pack.rules import (
    RESOURCE_RULES,
    STACK_RULES,
    Resource,
    ResourceRule,
    Scope,
    StackContext,
    StackRule,
)
from policy_pack.settings import MANDATORY

PACK_NAME = "mlstack"


def plain(value: Any) -> Any:
    """A pulumi-policy property value as plain dicts and lists, unknowns kept as values."""
    if isinstance(value, Mapping):
        target = value["__target"] if _is_proxy(value) else value
        return {str(k): plain(v) for k, v in dict(target).items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = value["__target"] if _is_proxy(value) else value
        return [plain(v) for v in list(target)]
    return value


def _is_proxy(value: Any) -> bool:
    return type(value).__name__ in ("_DictProxy", "_ListProxy")


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        for message in rule.check(args.resource_type, plain(args.props)):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        remediation_steps=rule.fix,
    )


def _stack_policy(rule: StackRule, context: StackContext) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            Resource(urn=r.urn, type=r.resource_type, name=r.name, inputs=plain(r.props))
            for r in args.resources
        ]
        for violation in rule.check(resources, context):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        remediation_steps=rule.fix,
    )


def build_policies(context: StackContext) -> list[Policy]:
    """One CrossGuard policy per rule; production-only rules only on production stacks."""
    policies: list[Policy] = [_resource_policy(rule) for rule in RESOURCE_RULES]
    policies += [
        _stack_policy(rule, context)
        for rule in STACK_RULES
        if rule.scope is Scope.ALL or context.is_production
    ]
    return policies


def enforcement_level(level: str) -> EnforcementLevel:
    """The pack's enforcement level for a stack's ``mlstack:policy.enforcement``."""
    return EnforcementLevel.MANDATORY if level == MANDATORY else EnforcementLevel.ADVISORY
