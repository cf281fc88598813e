"""Rules a code change could break (trust, permissions, resource policies, network, IMDS, pod
host access, Service types), replayed from a plan document with `mlstack check --plan`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.offline.plan import Plan
from policy_pack.rules import rule_named
from tests.policy_pack.fixtures import (
    ACCESS_CASES,
    GITHUB_TRUST,
    KUBERNETES_CASES,
    ROLLOUT,
    _policy,
)

runner = CliRunner()


def _messages(rule: str, type_token: str, inputs: dict) -> list[str]:
    return list(rule_named(rule).check(type_token, inputs))


def test_web_identity_trust_with_any_subject_is_flagged() -> None:
    trust = copy.deepcopy(GITHUB_TRUST)
    trust["Condition"]["StringLike"] = trust["Condition"].pop("StringEquals")
    trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"] = "*"
    messages = _messages(
        "iam-web-identity-trust-scoped", "aws:iam/role:Role", {"assumeRolePolicy": _policy(trust)}
    )
    assert any("any subject" in m for m in messages)


def test_public_statement_narrowed_by_account_passes_but_not_by_tls_alone() -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    narrowed = dict(statement, Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}})
    tls_only = dict(statement, Condition={"Bool": {"aws:SecureTransport": "true"}})
    deny = dict(statement, Effect="Deny")
    bucket_policy = "aws:s3/bucketPolicy:BucketPolicy"
    assert (
        _messages("resource-policy-not-public", bucket_policy, {"policy": _policy(narrowed)}) == []
    )
    assert _messages("resource-policy-not-public", bucket_policy, {"policy": _policy(deny)}) == []
    assert _messages("resource-policy-not-public", bucket_policy, {"policy": _policy(tls_only)})


@pytest.mark.parametrize(
    ("type_token", "inputs"),
    [
        (
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {"type": "ingress", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
        ),
        (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"fromPort": 8080, "toPort": 8080, "cidrIpv6": "::/0"},
        ),
    ],
)
def test_open_ingress_is_flagged_on_every_rule_resource(type_token: str, inputs: dict) -> None:
    assert _messages("security-group-no-open-ingress", type_token, inputs)


def test_open_egress_rule_is_not_ingress() -> None:
    egress = {"type": "egress", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
    rule = "aws:ec2/securityGroupRule:SecurityGroupRule"
    assert _messages("security-group-no-open-ingress", rule, egress) == []


def _document(resources: list[tuple[str, str, dict]], stack: str = "production") -> dict:
    prefix = f"urn:pulumi:{stack}::mlstack"
    return {
        "project": "mlstack",
        "stack": stack,
        "tier": "staging",  # a document's own claim: ignored, the declaration decides
        "resources": [
            {"urn": f"{prefix}::{t}::{name}", "type": t, "name": name, "inputs": inputs}
            for name, t, inputs in resources
        ],
        "outputs": {},
        "policy": [],
    }


def _check(tmp_path: Path, document: dict) -> tuple[int, str]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["check", "--plan", str(path)])
    return result.exit_code, result.output


def test_check_plan_flags_each_synthetic_insecure_resource(tmp_path: Path) -> None:
    insecure = [(name, t, bad) for name, (t, _, bad) in ACCESS_CASES.items()]
    insecure += [(name, ROLLOUT, inputs) for name, inputs in KUBERNETES_CASES.items()]
    code, output = _check(tmp_path, _document(insecure))
    assert code == 1, output
    for name, _, _ in insecure:
        assert f"MANDATORY {name}" in output, f"{name} not reported"


def test_check_plan_passes_the_compliant_versions(tmp_path: Path) -> None:
    secure = [(name, t, good) for name, (t, good, _) in ACCESS_CASES.items()]
    code, output = _check(tmp_path, _document(secure))
    assert code == 0, output


def test_check_plan_of_an_undeclared_stack_is_judged_as_production(tmp_path: Path) -> None:
    name, (type_token, _, bad) = next(iter(ACCESS_CASES.items()))
    code, output = _check(tmp_path, _document([(name, type_token, bad)], stack="shadow-it"))
    assert code == 1 and "mandatory enforcement" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not JSON"), ("[]", "JSON object"), ('{"stack": "x"}', "no resources")],
)
def test_check_plan_rejects_unreadable_documents(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    result = runner.invoke(app, ["check", "--plan", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_plan_document_round_trips(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert [r.to_json() for r in again.resources] == [r.to_json() for r in plan.resources]
