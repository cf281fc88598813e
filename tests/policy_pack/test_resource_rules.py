"""Each resource rule passes compliant inputs and rejects violating ones (camelCase, as the
engine sends them)."""

from __future__ import annotations

import pytest

from policy_pack.rules import RESOURCE_RULES, ResourceRule, rule_named
from policy_pack.rules.base import UNKNOWN_VALUES
from tests.policy_pack.fixtures import (
    ENDPOINT_CONFIG,
    HARDENED_CONTAINER,
    KUBERNETES_CASES,
    POD_LEVEL_CASES,
    RESOURCE_CASES,
    ROLLOUT,
    rollout,
)


def _rule(name: str) -> ResourceRule:
    rule = rule_named(name)
    assert isinstance(rule, ResourceRule)
    return rule


@pytest.mark.parametrize("name", sorted(RESOURCE_CASES))
def test_rule_passes_compliant_inputs(name: str) -> None:
    type_token, good, _ = RESOURCE_CASES[name]
    rule = _rule(name)
    assert rule.applies_to(type_token)
    assert list(rule.check(type_token, good)) == []


@pytest.mark.parametrize("name", sorted(RESOURCE_CASES))
def test_rule_rejects_violating_inputs(name: str) -> None:
    type_token, _, bad = RESOURCE_CASES[name]
    messages = list(_rule(name).check(type_token, bad))
    assert messages, f"{name} accepted {bad}"
    assert all(":" in m for m in messages), "each message says what to change"


@pytest.mark.parametrize("name", sorted(KUBERNETES_CASES))
def test_hardened_rollout_passes_kubernetes_rule(name: str) -> None:
    assert list(_rule(name).check(ROLLOUT, rollout(HARDENED_CONTAINER))) == []


@pytest.mark.parametrize("name", sorted(KUBERNETES_CASES))
def test_kubernetes_rule_rejects_weakened_rollout(name: str) -> None:
    messages = list(_rule(name).check(ROLLOUT, KUBERNETES_CASES[name]))
    pod_level = {"k8s-no-service-account-token", *POD_LEVEL_CASES}
    assert messages and ("model-server" in messages[0] or name in pod_level)
    assert messages


def test_every_resource_rule_has_a_fixture() -> None:
    assert {r.name for r in RESOURCE_RULES} == set(RESOURCE_CASES) | set(KUBERNETES_CASES)


@pytest.mark.parametrize(
    ("type_token", "spec_path"),
    [
        ("kubernetes:apps/v1:Deployment", ("spec", "template", "spec")),
        ("kubernetes:core/v1:Pod", ("spec",)),
        ("kubernetes:batch/v1:CronJob", ("spec", "jobTemplate", "spec", "template", "spec")),
    ],
)
def test_pod_rules_read_every_workload_kind(type_token: str, spec_path: tuple[str, ...]) -> None:
    bad = dict(HARDENED_CONTAINER, image="serving:latest")
    inputs: dict = {"containers": [bad]}
    for step in reversed(spec_path):
        inputs = {step: inputs}
    assert list(_rule("k8s-image-digest").check(type_token, inputs))


def test_kubernetes_rules_ignore_objects_without_pods() -> None:
    rule = _rule("k8s-liveness-probe")
    assert not rule.applies_to("kubernetes:core/v1:Service")
    assert not rule.applies_to("kubernetes:helm.sh/v3:Release")


@pytest.mark.parametrize("placeholder", sorted(UNKNOWN_VALUES))
def test_value_unknown_during_preview_counts_as_set(placeholder: str) -> None:
    inputs = dict(ENDPOINT_CONFIG, kmsKeyArn=placeholder)
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    assert list(_rule("sagemaker-endpoint-config-kms").check(token, inputs)) == []


def test_serverless_endpoint_config_needs_no_volume_key() -> None:
    inputs = {"productionVariants": [{"serverlessConfig": {"memorySizeInMb": 2048.0}}]}
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    assert list(_rule("sagemaker-endpoint-config-kms").check(token, inputs)) == []


def test_role_with_full_access_managed_policy_is_rejected() -> None:
    inputs = {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}
    assert list(_rule("iam-no-admin-managed-policy").check("aws:iam/role:Role", inputs))
