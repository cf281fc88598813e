"""The EKS gate rules of issue 12: the model artifact is pinned, the stack's bucket denies
writing it to all but its writers, the serving namespace denies by default, NetworkPolicies
name their peers and no Ingress publishes /metrics. Each attack is replayed as a plan document
through `mlstack check --plan`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.offline.plan import Plan
from policy_pack.rules import StackContext, rule_named
from policy_pack.rules.base import UNKNOWN_VALUES
from tests.policy_pack.fixtures import (
    FETCH_MODEL,
    INGRESS,
    PINNED_BY_VERSION,
    ROLLOUT,
    SERVER_NETWORK_POLICY,
    UNPACK_MODEL,
    UNPINNED_UNPACK,
    with_init,
)
from tests.policy_pack.stack_fixtures import STACK_CASES, compliant_stack, edit

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PRODUCTION = StackContext(stack="production", environment="production")
runner = CliRunner()


def _messages(rule: str, type_token: str, inputs: dict[str, Any]) -> list[str]:
    return list(rule_named(rule).check(type_token, inputs))


# --- k8s-model-artifact-pinned -------------------------------------------------------------


@pytest.mark.parametrize(
    "init",
    [
        (PINNED_BY_VERSION, UNPINNED_UNPACK),
        (FETCH_MODEL, UNPACK_MODEL),
        ({**FETCH_MODEL, "command": ["sh", "-c", "aws s3 cp s3://b/m.tar.gz m && "
                                     "echo 'x  m' | sha256sum -c"], "args": []},),
        ({**FETCH_MODEL, "args": ["s3", "cp", "s3://b/m.tar.gz", next(iter(UNKNOWN_VALUES))]},
         {**UNPACK_MODEL, "env": [{"name": "MODEL_ARTIFACT_SHA256",
                                   "value": next(iter(UNKNOWN_VALUES))}]}),
        (),
    ],
    ids=["version-id", "sha256-env", "sha256sum-in-shell", "unknown-digest", "no-fetch"],
)  # fmt: skip
def test_pinned_fetches_pass(init: tuple[dict[str, Any], ...]) -> None:
    assert _messages("k8s-model-artifact-pinned", ROLLOUT, with_init(*init)) == []


@pytest.mark.parametrize(
    "init",
    [
        (FETCH_MODEL, UNPINNED_UNPACK),
        ({**FETCH_MODEL, "args": ["s3", "cp", "--recursive", "s3://b/models/", "/opt/ml/model"]},),
        (FETCH_MODEL, {**UNPACK_MODEL, "env": [{"name": "MODEL_ARTIFACT_SHA256", "value": "x"}]}),
        ({**PINNED_BY_VERSION, "args": [*PINNED_BY_VERSION["args"][:7], "--version-id"]},),
        # the check must come after the fetch: a verifier that runs first proves nothing
        (UNPACK_MODEL, FETCH_MODEL),
    ],
    ids=["no-pin", "prefix", "malformed-digest", "empty-version", "verified-before-fetch"],
)
def test_unpinned_fetches_are_flagged(init: tuple[dict[str, Any], ...]) -> None:
    (message,) = _messages("k8s-model-artifact-pinned", ROLLOUT, with_init(*init))
    assert "fetch-model" in message and "--version-id or verify its sha256" in message


# --- k8s-network-policy-scoped --------------------------------------------------------------


def _policy(edit_spec: Any) -> dict[str, Any]:
    inputs = copy.deepcopy(SERVER_NETWORK_POLICY)
    edit_spec(inputs["spec"])
    return inputs


@pytest.mark.parametrize(
    ("edit_spec", "words"),
    [
        (lambda s: s["ingress"][0].update({"from": [{"namespaceSelector": {}}]}), "namespace"),
        (lambda s: s["ingress"][0].update({"from": [{}]}), "an empty peer"),
        (lambda s: s["egress"][0].pop("to"), "egress[0] (port 443) has no 'to'"),
        (lambda s: s["egress"][0].update(to=[{"ipBlock": {"cidr": "0.0.0.0/0"}}]), "0.0.0.0/0"),
    ],
)  # fmt: skip
def test_open_peers_are_flagged(edit_spec: Any, words: str) -> None:
    messages = _messages("k8s-network-policy-scoped", NETWORK_POLICY, _policy(edit_spec))
    assert any(words in m for m in messages), messages


def test_namespace_selector_with_labels_is_a_named_peer() -> None:
    peer = {"namespaceSelector": {"matchLabels": {"team": "ml"}}}
    policy = _policy(lambda s: s["ingress"][0].update({"from": [peer]}))
    assert _messages("k8s-network-policy-scoped", NETWORK_POLICY, policy) == []


# --- k8s-ingress-metrics-private ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "path_type"),
    [("/metrics", "Exact"), ("/", "Prefix"), ("/.*", "ImplementationSpecific")],
)
def test_ingress_paths_covering_metrics_are_flagged(path: str, path_type: str) -> None:
    inputs = copy.deepcopy(INGRESS)
    inputs["spec"]["rules"][0]["http"]["paths"][0].update(path=path, pathType=path_type)
    assert _messages(
        "k8s-ingress-metrics-private", "kubernetes:networking.k8s.io/v1:Ingress", inputs
    )


def test_ingress_default_backend_is_flagged() -> None:
    inputs = copy.deepcopy(INGRESS)
    inputs["spec"]["defaultBackend"] = {
        "service": {"name": "model-server", "port": {"number": 8080}}
    }
    (message,) = _messages(
        "k8s-ingress-metrics-private", "kubernetes:networking.k8s.io/v1:Ingress", inputs
    )
    assert "defaultBackend" in message


# --- k8s-namespace-default-deny -------------------------------------------------------------


def test_default_deny_of_another_namespace_does_not_count() -> None:
    elsewhere = edit("serving-default-deny", lambda i: i["metadata"].update(namespace="other"))
    (violation,) = rule_named("k8s-namespace-default-deny").check(
        elsewhere(compliant_stack()), PRODUCTION
    )
    assert "namespace 'serving'" in violation.message


def test_a_default_deny_that_allows_something_does_not_count() -> None:
    allows = edit(
        "serving-default-deny", lambda i: i["spec"].update(ingress=[{"ports": [{"port": 8080}]}])
    )
    assert list(
        rule_named("k8s-namespace-default-deny").check(allows(compliant_stack()), PRODUCTION)
    )


# --- the shipped stack, and the attack replayed through `mlstack check --plan` --------------


def test_production_serving_passes_the_new_rules(shipped_plans: dict[str, Plan]) -> None:
    from mlstack.checks import evaluate

    names = {
        "k8s-model-artifact-pinned",
        "k8s-network-policy-scoped",
        "k8s-namespace-default-deny",
    }
    assert [r for r in evaluate(shipped_plans["production"]) if r.policy in names] == []


def test_check_plan_flags_the_issue_12_serving_network(tmp_path: Path) -> None:
    """The NetworkPolicy the kit shipped before: 8080 from any pod, 443 to anywhere."""
    before = {
        "metadata": {"name": "model-server", "namespace": "serving"},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-server"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 8080.0}]}],
            "egress": [{"ports": [{"protocol": "TCP", "port": 443.0}]}],
        },
    }
    prefix = "urn:pulumi:production::mlstack"
    document = {
        "project": "mlstack",
        "stack": "production",
        "resources": [
            {"urn": f"{prefix}::{NETWORK_POLICY}::serving-network", "type": NETWORK_POLICY,
             "name": "serving-network", "inputs": before},
            {"urn": f"{prefix}::{ROLLOUT}::serving-workload", "type": ROLLOUT,
             "name": "serving-workload", "inputs": with_init(FETCH_MODEL, UNPINNED_UNPACK)},
        ],
        "outputs": {},
        "policy": [],
    }  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["check", "--plan", str(path)])
    assert result.exit_code == 1, result.output
    for rule in (
        "k8s-network-policy-scoped",
        "k8s-namespace-default-deny",
        "k8s-model-artifact-pinned",
    ):
        assert f"MANDATORY {rule}" in result.output, result.output
    assert "ingress[0] (port 8080) has no 'from'" in result.output


# --- production-model-artifact-write-protected ----------------------------------------------


def _with_write_deny(statement_edit: Any) -> list:
    deny = {
        "Sid": "DenyModelWritesButByModelWriters",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:PutObject", "s3:DeleteObject"],
        "Resource": "arn:aws:s3:::artifacts-1/models/*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::1:role/release"]}},
    }
    statement_edit(deny)
    fetching = STACK_CASES["production-model-artifact-write-protected"](compliant_stack())
    return edit(
        "artifacts-tls",
        lambda i: i.update(
            policy=json.dumps({"Statement": [*json.loads(i["policy"])["Statement"], deny]})
        ),
    )(fetching)


def test_write_deny_except_named_writers_protects_the_fetched_artifact() -> None:
    rule = rule_named("production-model-artifact-write-protected")
    assert list(rule.check(_with_write_deny(lambda s: None), PRODUCTION)) == []


@pytest.mark.parametrize(
    "weaken",
    [
        lambda s: s.update(Resource="arn:aws:s3:::artifacts-1/data-capture/*"),
        lambda s: s.update(Action=["s3:DeleteObject"]),
        # an exemption by tag can be claimed by whoever may tag a role
        lambda s: s.update(Condition={"StringNotEquals": {"aws:PrincipalTag/team": "ml"}}),
    ],
    ids=["other-prefix", "no-put", "exempt-by-tag"],
)
def test_write_deny_that_misses_the_artifact_is_flagged(weaken: Any) -> None:
    rule = rule_named("production-model-artifact-write-protected")
    (violation,) = rule.check(_with_write_deny(weaken), PRODUCTION)
    assert "s3://artifacts-1/models/m.tar.gz may be overwritten" in violation.message
