"""Every rule of the mlstack policy pack, importable without a Pulumi engine.

``RULES`` holds the resource rules (one resource at a time) and the stack rules (the whole
plan) in the order they are reported. ``mlstack/checks.py`` runs them over an offline
plan; ``policy_pack/__main__.py`` wraps the same functions as CrossGuard policies.
"""

from __future__ import annotations

from policy_pack.rules import (
    access,
    aws,
    aws_stack,
    delivery,
    kubernetes,
    kubernetes_network,
    loop,
)
from policy_pack.rules.base import (
    Inputs,
    Resource,
    ResourceRule,
    Rule,
    Scope,
    StackContext,
    StackRule,
    Violation,
)

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    *aws.RULES,
    *access.RULES,
    *loop.RULES,
    *kubernetes.RULES,
    *kubernetes_network.RESOURCE_RULES,
)
STACK_RULES: tuple[StackRule, ...] = (
    *aws_stack.RULES,
    *delivery.RULES,
    *loop.STACK_RULES,
    *kubernetes_network.STACK_RULES,
)
RULES: tuple[Rule, ...] = (*RESOURCE_RULES, *STACK_RULES)


def rule_named(name: str) -> Rule:
    """The rule called ``name``; KeyError when there is none."""
    for rule in RULES:
        if rule.name == name:
            return rule
    raise KeyError(name)


__all__ = [
    "RESOURCE_RULES",
    "RULES",
    "STACK_RULES",
    "Inputs",
    "Resource",
    "ResourceRule",
    "Rule",
    "Scope",
    "StackContext",
    "StackRule",
    "Violation",
    "rule_named",
]
