"""bootstrap/: the GitHub OIDC provider and the workflow roles, planned offline and judged."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pulumi
import pytest
import yaml

from infra.components.github_access import ARTIFACTS_BUCKET_PATTERN
from mlstack.checks import evaluate
from mlstack.offline.harness import PlanConfigError, run_plan
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT

BOOTSTRAP = PROJECT_ROOT / "bootstrap"
ROLE = "aws:iam/role:Role"


@pytest.fixture(scope="module")
def plan() -> Plan:
    plan = run_plan("github", BOOTSTRAP)
    plan.policy = evaluate(plan)
    return plan


def _roles(plan: Plan) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in plan.of_type(ROLE)}


def test_one_provider_for_github_with_the_sts_audience(plan: Plan) -> None:
    (provider,) = plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_each_role_trusts_one_repository_environment_exactly(plan: Plan) -> None:
    roles = _roles(plan)
    deploying = ("staging", "production", "platform")
    assert set(roles) == {"mlstack-github-preview"} | {
        f"mlstack-github-{e}{suffix}" for e in deploying for suffix in ("", "-release")
    }
    for name, inputs in roles.items():
        (statement,) = json.loads(inputs["assumeRolePolicy"])["Statement"]
        condition = statement["Condition"]
        assert set(condition) == {"StringEquals"}, "no wildcard matching"
        environment = name.removeprefix("mlstack-github-").removesuffix("-release")
        subject = f"repo:acme/mlstack:environment:{environment}"
        assert condition["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }


def test_the_preview_role_only_reads(plan: Plan) -> None:
    policy = json.loads(_roles(plan)["mlstack-github-preview"]["inlinePolicies"][0]["policy"])
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    verbs = ("Describe", "Get", "List")
    assert all(a.split(":", 1)[1].startswith(verbs) for a in actions), actions
    assert "s3:GetObject" not in actions and not any(a.startswith("kms:Decrypt") for a in actions)


def test_the_preview_role_reads_all_a_deploy_role_reads(plan: Plan) -> None:
    """A preview with ``--refresh`` reads every planned resource back, tags included: each read
    (Describe, Get, List) a deploy role's types list (deploy_permissions.yaml) is the preview
    role's too, and nothing but reads (test_the_preview_role_only_reads)."""
    permissions = yaml.safe_load((BOOTSTRAP / "deploy_permissions.yaml").read_text())
    listed = {
        action
        for spec in permissions["types"].values()
        for key in ("manage", "anywhere")
        for action in spec.get(key, ())
    } | set(permissions["reads"])
    reads = {a for a in listed if a.split(":", 1)[1].startswith(("Describe", "Get", "List"))}
    assert {"application-autoscaling:ListTagsForResource", "events:DescribeRule"} <= reads
    policy = json.loads(_roles(plan)["mlstack-github-preview"]["inlinePolicies"][0]["policy"])
    allowed = [a for s in policy["Statement"] for a in s["Action"]]
    missing = {t for t in reads if not any(fnmatch.fnmatchcase(t, a) for a in allowed)}
    assert not missing, sorted(missing)


def test_the_deploy_roles_allow_nothing_unconditioned_beyond_reads(plan: Plan) -> None:
    """Every write is bounded by the stack's tag, a named ARN pattern or a condition; "*"
    without a condition only for reads and the calls that support no resource type (what they
    do is judged by the service's own actions; tests/infra/test_deploy_role.py)."""
    policy = json.loads(_roles(plan)["mlstack-github-production"]["inlinePolicies"][0]["policy"])
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        if "*" in resources and "Condition" not in statement:
            assert statement["Sid"] in ("ReadEverything", "UnaddressedCalls"), statement["Sid"]
        if statement["Sid"] == "UnaddressedCalls":
            services = {a.split(":", 1)[0] for a in statement["Action"]}
            # Cloud Control's only: Application Auto Scaling's writes all take the target.
            assert services == {"cloudformation"}


def _release_statements(plan: Plan, environment: str) -> list[dict]:
    role = _roles(plan)[f"mlstack-github-{environment}-release"]
    return [s for p in role.get("inlinePolicies", []) for s in json.loads(p["policy"])["Statement"]]


@pytest.mark.parametrize(
    ("environment", "prefix"),
    [("production", "pipelines/churn-classifier/code"), ("platform", "pipelines/churn/code")],
)
def test_a_release_role_writes_only_its_stacks_step_scripts(
    plan: Plan, environment: str, prefix: str
) -> None:
    """Each stack's pipelines read scripts under its code prefixes: its release role may put
    (and read back) objects there and nowhere else, and have S3 encrypt them."""
    definitions = (PROJECT_ROOT / "stacks" / "pipelines").glob(f"{environment}-*.json")
    prefixes = {
        key.rsplit("/", 2)[0]
        for path in definitions
        for key in re.findall(r'"([\w/.-]+/[0-9a-f]{64}/[\w.-]+\.py)"', path.read_text())
    }
    assert prefixes == {prefix}
    write, encrypt = _release_statements(plan, environment)
    assert sorted(write["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert write["Resource"] == [f"arn:aws:s3:::{ARTIFACTS_BUCKET_PATTERN}/{p}/*" for p in prefixes]
    assert write["Condition"] == {"StringEquals": {"s3:ResourceAccount": "123456789012"}}
    assert encrypt["Action"] == "kms:GenerateDataKey"
    assert encrypt["Condition"] == {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    assert encrypt["Resource"] == "arn:aws:kms:*:123456789012:key/*"


def test_a_release_role_of_a_stack_without_scripts_may_do_nothing(plan: Plan) -> None:
    assert _release_statements(plan, "staging") == []


def test_the_bucket_pattern_names_every_stacks_artifacts_bucket(
    shipped_plans: dict[str, Plan],
) -> None:
    """The program's bucket, as Pulumi auto-names it, is what the release roles may write to
    (``?`` is one character, as in IAM)."""
    for stack, planned in shipped_plans.items():
        bucket = planned.outputs["artifactsBucket"]
        assert fnmatch.fnmatchcase(bucket, ARTIFACTS_BUCKET_PATTERN), (stack, bucket)
    assert not fnmatch.fnmatchcase("registry-artifacts-9a68b3d0", ARTIFACTS_BUCKET_PATTERN)


def test_the_bootstrap_passes_the_policy_pack_as_production(plan: Plan) -> None:
    assert plan.tier == "production"
    assert plan.policy == []


def test_a_repository_not_owner_slash_name_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "bootstrap"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (copy / name).write_text((BOOTSTRAP / name).read_text())
    (copy / "Pulumi.github.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  mlstack-bootstrap:repository: just-a-name\n"
    )
    with pytest.raises((PlanConfigError, pulumi.RunError), match="owner/name"):
        run_plan("github", copy)
