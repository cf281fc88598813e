"""The CrossGuard pack runs the same rule functions on what pulumi-policy hands a policy:
camelCase props wrapped in proxies that raise on values unknown during a preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy_pack.pack import build_policies, enforcement_level, plain
from policy_pack.rules import RULES, StackContext
from policy_pack.settings import (
    TierDeclarationError,
    enforcement,
    engine_config,
    load_tiers,
    stack_context,
    tier_of,
)
from tests.policy_pack.fixtures import RESOURCE_CASES
from tests.policy_pack.stack_fixtures import STACK_CASES, compliant_stack

PRODUCTION = StackContext(stack="production", environment="production")
OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def _policies(context: StackContext = PRODUCTION) -> dict:
    return {p.name: p for p in build_policies(context)}


def _validate_resource(policy: ResourceValidationPolicy, type_token: str, props: dict) -> list:
    reported: list[str] = []
    args = ResourceValidationArgs(
        type_token, unknown_checking_proxy(props), "urn:x", "x", OPTIONS, None
    )
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_pack_builds_one_policy_per_rule_in_production() -> None:
    assert set(_policies()) == {r.name for r in RULES}


@pytest.mark.parametrize("name", sorted(RESOURCE_CASES))
def test_resource_policy_reports_what_the_rule_reports(name: str) -> None:
    type_token, good, bad = RESOURCE_CASES[name]
    policy = _policies()[name]
    assert _validate_resource(policy, type_token, good) == []
    assert _validate_resource(policy, type_token, bad)


def test_unknown_preview_value_does_not_abort_the_policy() -> None:
    type_token, good, _ = RESOURCE_CASES["sagemaker-endpoint-config-kms"]
    props = dict(good, kmsKeyArn=UNKNOWN_STRING_VALUE)
    assert _validate_resource(_policies()["sagemaker-endpoint-config-kms"], type_token, props) == []


def test_plain_unwraps_nested_proxies() -> None:
    data = {"a": [{"b": True}], "c": {"d": "x"}}
    assert plain(unknown_checking_proxy(data)) == data


@pytest.mark.parametrize("name", ["rollback-alarms-exist", "s3-bucket-versioning"])
def test_stack_policy_reports_the_violating_resource(name: str) -> None:
    policy = _policies()[name]
    assert isinstance(policy, StackValidationPolicy)
    resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.inputs)),
            r.urn,
            r.name,
            OPTIONS,
            None,
            None,
            [],
            {},
        )
        for r in STACK_CASES[name](compliant_stack())
    ]
    reported: list[tuple[str, str | None]] = []
    policy.validate(
        StackValidationArgs(resources, None), lambda m, urn=None: reported.append((m, urn))
    )
    assert reported and all(urn for _, urn in reported)


def test_staging_pack_leaves_out_production_only_rules() -> None:
    staging = _policies(StackContext(stack="staging", environment="staging"))
    assert "production-data-capture" not in staging
    assert "rollback-alarms-exist" in staging


def test_tier_comes_from_the_declaration_not_the_stack_file() -> None:
    """The production stack file saying staging and advisory changes nothing."""
    lying = {
        "mlstack:environment": "staging",
        "mlstack:policy": json.dumps({"enforcement": "advisory"}),
    }
    assert tier_of("production") == "production"
    assert enforcement(tier_of("production"), lying) == "mandatory"
    assert stack_context("production", tier_of("production")).is_production


def test_staging_config_can_only_make_the_pack_stricter() -> None:
    asks_mandatory = {"mlstack:policy": json.dumps({"enforcement": "mandatory"})}
    assert enforcement("staging", {}) == "advisory"
    assert enforcement("staging", asks_mandatory) == "mandatory"
    assert enforcement_level(enforcement("staging", {})) is EnforcementLevel.ADVISORY


def test_undeclared_stack_or_unreadable_declaration_fails_closed(tmp_path: Path) -> None:
    assert tier_of("sandbox-42") == "production"
    broken = tmp_path / "tiers.yaml"
    broken.write_text("stacks: [staging]\n")
    assert tier_of("staging", broken) == "production"
    with pytest.raises(TierDeclarationError, match="stacks"):
        load_tiers(broken)
    broken.write_text("stacks:\n  staging: prod\n")
    with pytest.raises(TierDeclarationError, match="staging: prod"):
        load_tiers(broken)


def test_pack_reads_the_engine_config_and_loses_nothing_when_it_is_garbled() -> None:
    env = {"PULUMI_STACK": "staging", "PULUMI_CONFIG": json.dumps({"mlstack:owner": "ml"})}
    assert engine_config(env) == ("staging", {"mlstack:owner": "ml"})
    assert engine_config({"PULUMI_STACK": "production", "PULUMI_CONFIG": "{not json"}) == (
        "production",
        {},
    )
    assert engine_config({}) == ("", {})
    assert enforcement(tier_of(""), {}) == "mandatory"
