"""The CrossGuard pack runs the same rule functions on what pulumi-policy hands a policy:
camelCase props wrapped in proxies that raise on values unknown during a preview."""

from __future__ import annotations

import json

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

from infra.policy.pack import build_policies, enforcement_level, plain
from infra.policy.rules import RULES, StackContext
from infra.policy.settings import context_from_config, enforcement_from_config, engine_config
from tests.infra.policy.fixtures import RESOURCE_CASES
from tests.infra.policy.stack_fixtures import STACK_CASES, compliant_stack

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


def test_enforcement_comes_from_the_stack_config() -> None:
    production = {"mlstack:environment": "production"}
    staging = {
        "mlstack:environment": "staging",
        "mlstack:policy": json.dumps({"enforcement": "advisory"}),
    }
    assert enforcement_level(enforcement_from_config(production)) is EnforcementLevel.MANDATORY
    assert enforcement_level(enforcement_from_config(staging)) is EnforcementLevel.ADVISORY


def test_pack_reads_engine_config_then_stack_file() -> None:
    env = {
        "PULUMI_STACK": "production",
        "PULUMI_CONFIG": json.dumps({"mlstack:environment": "production"}),
    }
    stack, config = engine_config(env)
    assert context_from_config(stack, config).is_production
    stack, config = engine_config({"PULUMI_STACK": "production"})
    assert config["mlstack:environment"] == "production"
    assert enforcement_from_config(config) == "mandatory"
