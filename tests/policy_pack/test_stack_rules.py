"""Each stack rule passes a compliant production stack and rejects one edit of it."""

from __future__ import annotations

import pytest

from mlstack.checks import run_rules
from policy_pack.rules import STACK_RULES, Scope, StackContext, StackRule, rule_named
from tests.policy_pack.stack_fixtures import STACK_CASES, compliant_stack

PRODUCTION = StackContext(stack="production", environment="production")
STAGING = StackContext(stack="staging", environment="staging")


def _rule(name: str) -> StackRule:
    rule = rule_named(name)
    assert isinstance(rule, StackRule)
    return rule


@pytest.mark.parametrize("name", sorted(STACK_CASES))
def test_stack_rule_passes_compliant_stack(name: str) -> None:
    assert list(_rule(name).check(compliant_stack(), PRODUCTION)) == []


@pytest.mark.parametrize("name", sorted(STACK_CASES))
def test_stack_rule_rejects_edited_stack(name: str) -> None:
    violations = list(_rule(name).check(STACK_CASES[name](compliant_stack()), PRODUCTION))
    assert violations, f"{name} accepted the edited stack"
    assert all(v.urn for v in violations), "violations name the resource"


CONTEXT_RULES = {"stack-tier-declared"}
"""Rules about the stack's identity rather than its resources, tested on their own below."""


def test_every_stack_rule_has_a_fixture() -> None:
    assert {r.name for r in STACK_RULES} == set(STACK_CASES) | CONTEXT_RULES


def test_stack_file_relabelling_its_declared_tier_is_a_violation() -> None:
    rule = _rule("stack-tier-declared")
    relabelled = StackContext("production", "production", configured_environment="staging")
    (violation,) = rule.check(compliant_stack(), relabelled)
    assert "declared production" in violation.message
    assert "mlstack:environment: staging" in violation.message
    matching = StackContext("production", "production", configured_environment="production")
    assert list(rule.check(compliant_stack(), matching)) == []
    assert rule.scope is not Scope.PRODUCTION, "it must also run where the file claims staging"


def test_compliant_stack_has_no_violation_of_any_stack_rule() -> None:
    assert run_rules(compliant_stack(), PRODUCTION, "mandatory", resource_rules=()) == []


def test_production_only_rules_skip_staging() -> None:
    stack = STACK_CASES["production-data-capture"](compliant_stack())
    results = run_rules(stack, STAGING, "advisory")
    assert "production-data-capture" not in {r.policy for r in results}
    production_only = {r.name for r in STACK_RULES if r.scope is Scope.PRODUCTION}
    assert production_only >= {"production-data-capture", "production-image-digest"}


def test_rollback_alarm_missing_names_the_alarm() -> None:
    stack = STACK_CASES["rollback-alarms-exist"](compliant_stack())
    (violation,) = _rule("rollback-alarms-exist").check(stack, PRODUCTION)
    assert "rollback-5xx" in violation.message


def test_registered_model_package_counts_as_pinned() -> None:
    def use_package(inputs: dict) -> None:
        inputs["primaryContainer"] = {"modelPackageName": "arn:...:model-package/churn/3"}

    from tests.policy_pack.stack_fixtures import edit

    stack = edit("model", use_package)(compliant_stack())
    assert list(_rule("production-image-digest").check(stack, PRODUCTION)) == []
