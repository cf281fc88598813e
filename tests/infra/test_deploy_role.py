"""The deploy roles against every shipped stack's plan: each resource type's actions allowed on
each planned resource as planned (its ARN, its tags, the roles it is given), nothing on other
stacks' resources or on the bootstrap's own access; and the artifacts bucket keeping the
pipelines' step scripts to the release role. Judged by tests/iam_evaluator.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from infra.components.github_access import GITHUB_OIDC_HOST, adds_tags
from mlstack.offline.harness import run_plan
from mlstack.offline.mocks import AUTONAME_PROPERTY, physical_name
from mlstack.offline.plan import Plan, PlannedResource
from mlstack.project import PROJECT_ROOT
from tests.iam_evaluator import Decision, evaluate

BOOTSTRAP = PROJECT_ROOT / "bootstrap"
PERMISSIONS = yaml.safe_load((BOOTSTRAP / "deploy_permissions.yaml").read_text())
ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"
TAG = PERMISSIONS["tag_key"]


@pytest.fixture(scope="module")
def bootstrap() -> Plan:
    return run_plan("github", BOOTSTRAP)


@pytest.fixture(scope="module")
def stacks(shipped_plans: dict[str, Plan], platform_plan: Plan) -> dict[str, Plan]:
    return {**shipped_plans, "platform": platform_plan}


def _policy(bootstrap: Plan, role: str) -> dict[str, Any]:
    (planned,) = [r for r in bootstrap.of_type("aws:iam/role:Role") if r.inputs["name"] == role]
    return json.loads(planned.inputs["inlinePolicies"][0]["policy"])


def _input(inputs: dict[str, Any], path: str) -> Any:
    """The input at the dotted ``path``; None when the resource does not set it."""
    for key in path.split("."):
        inputs = inputs.get(key) if isinstance(inputs, dict) else None
    return inputs


def _name(resource: PlannedResource) -> str:
    prop = AUTONAME_PROPERTY.get(resource.type, "name")
    return resource.inputs.get(prop) or physical_name(resource.type, resource.name)


def _arn(resource: PlannedResource) -> str:
    template: str = PERMISSIONS["types"][resource.type]["arn"]
    for part in template.split("{input:")[1:]:
        key = part.split("}", 1)[0]
        template = template.replace(f"{{input:{key}}}", str(_input(resource.inputs, key)))
    return template.format(
        partition=PARTITION, region=REGION, account=ACCOUNT, name=_name(resource)
    )


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _tags(resource: PlannedResource) -> dict[str, str]:
    tags = resource.inputs.get("tags") or {}
    return {t["key"]: t["value"] for t in tags} if isinstance(tags, list) else tags


def _refusals(policy: dict[str, Any], plan: Plan, stack: str) -> list[str]:
    """Every (action, resource) the deploy role would be refused while creating, updating,
    reading or deleting ``plan``'s resources."""
    roles = {
        f"arn:aws:iam::{ACCOUNT}:role/{_name(r)}": r for r in plan.of_type("aws:iam/role:Role")
    }
    refused = []

    def check(action: str, resource: str, context: dict[str, Any], what: str) -> None:
        if evaluate([policy], action, resource, context) is not Decision.ALLOW:
            refused.append(f"{what}: {action} on {resource} with {context}")

    for resource in plan.resources:
        if not resource.custom or resource.type.startswith(tuple(PERMISSIONS["outside_iam"])):
            continue
        spec = PERMISSIONS["types"][resource.type]
        arn, what = _arn(resource), f"{resource.type} {resource.name}"
        if spec["scope"] == "tag" and "parent" not in spec:
            # The stack's tag as the program plans it, not as the test assumes it.
            request = {f"aws:RequestTag/{k}": v for k, v in _tags(resource).items()}
            existing = {f"aws:ResourceTag/{k}": v for k, v in _tags(resource).items()}
        else:
            # Judged by the parent's tag (held to the stack's by the parent's own check).
            request = existing = {f"aws:ResourceTag/{TAG}": stack, f"aws:RequestTag/{TAG}": stack}
        for action in spec.get("create", ()):
            check(action, arn, request, what)
        for action in spec.get("upsert", ()):
            check(action, arn, request, what)  # creating it
            check(action, arn, {**request, **existing}, what)  # calling it again on it
        for action in spec.get("manage", ()):
            check(action, arn, existing, what)
        for action in spec.get("create_anywhere", ()):
            check(action, "*", request, what)
        for action in spec.get("anywhere", ()):
            check(action, "*", {}, what)
        for action in spec.get("attach", ()):
            context = {**existing, "iam:PolicyARN": resource.inputs["policyArn"]}
            check(action, arn, context, what)
        if "passes" in spec and (role_arn := _input(resource.inputs, spec["passes"]["input"])):
            role_tags = _tags(roles[role_arn]) if role_arn in roles else {}
            context = {f"aws:ResourceTag/{k}": v for k, v in role_tags.items()}
            context["iam:PassedToService"] = spec["passes"]["to"]
            check("iam:PassRole", role_arn, context, what)
    return refused


def test_every_planned_type_has_its_permissions_listed(stacks: dict[str, Plan]) -> None:
    outside = tuple(PERMISSIONS["outside_iam"])
    planned = {r.type for p in stacks.values() for r in p.resources if r.custom}
    unlisted = sorted(
        t for t in planned if not t.startswith(outside) and t not in PERMISSIONS["types"]
    )
    assert not unlisted, f"add them to bootstrap/deploy_permissions.yaml: {unlisted}"


@pytest.mark.parametrize("stack", ["staging", "production", "platform"])
def test_the_deploy_role_may_do_all_its_stack_needs(
    bootstrap: Plan, stacks: dict[str, Plan], stack: str
) -> None:
    refused = _refusals(_policy(bootstrap, f"mlstack-github-{stack}"), stacks[stack], stack)
    assert not refused, "\n".join(refused[:20]) + f"\n({len(refused)} refused)"


def test_a_deploy_role_may_not_touch_another_stacks_resources(
    bootstrap: Plan, stacks: dict[str, Plan]
) -> None:
    """Staging's role, given production's plan, is refused on every tag-scoped or named
    resource but the schedules (matched by an account-wide pattern)."""
    refused = _refusals(
        _policy(bootstrap, "mlstack-github-staging"), stacks["production"], "production"
    )
    refused_types = {line.split(" ", 1)[0] for line in refused}
    for kind in (
        "aws:sagemaker/endpoint:Endpoint",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:eks/cluster:Cluster",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:ec2/vpc:Vpc",
        "aws:kms/alias:Alias",
        "aws:sagemaker/pipeline:Pipeline",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/policy:Policy",
    ):
        assert kind in refused_types, kind


SCALING_TYPES = ("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy")
SCALING_REQUEST_TAGGED = (
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:TagResource",
)
"""The Application Auto Scaling actions that take aws:RequestTag (Service Authorization
Reference), whatever list of deploy_permissions.yaml holds them."""


def test_every_planned_scalable_target_carries_its_stacks_tag(stacks: dict[str, Plan]) -> None:
    """The tag the deploy role's Application Auto Scaling statements are scoped by, on the
    variants' and the inference components' targets alike."""
    planned = {stack: plan.of_type(SCALING_TYPES[0]) for stack, plan in stacks.items()}
    assert all(planned.values()), f"a shipped stack plans no scalable target: {planned}"
    untagged = [
        f"{stack}: {target.name} {_tags(target)}"
        for stack, targets in planned.items()
        for target in targets
        if _tags(target).get(TAG) != stack
    ]
    assert not untagged, untagged


@pytest.mark.parametrize("owner", ["production", None], ids=["another-stack", "untagged"])
def test_a_deploy_role_may_not_scale_a_target_it_does_not_own(
    bootstrap: Plan, stacks: dict[str, Plan], owner: str | None
) -> None:
    """Staging's role on production's scalable targets and policies, or on untagged ones: every
    Application Auto Scaling action is refused, the calls that carry tags (register, tag)
    included when they carry staging's tag, except where IAM cannot tell an untagged target
    from a new one (deploy_permissions.yaml)."""
    policy = _policy(bootstrap, "mlstack-github-staging")
    specs = {kind: PERMISSIONS["types"][kind] for kind in SCALING_TYPES}
    resources = [r for r in stacks["production"].resources if r.type in SCALING_TYPES]
    assert {r.type for r in resources} == set(SCALING_TYPES)
    existing = {f"aws:ResourceTag/{TAG}": owner} if owner else {}
    own_request = {f"aws:RequestTag/{TAG}": "staging"}
    allowed = []
    for resource in resources:
        spec, arn = specs[resource.type], _arn(resource)
        listed = {a for key in ("create", "upsert", "manage") for a in spec.get(key, ())}
        # Reads (the tags) are every role's, as the preview role's: test_bootstrap.py.
        listed = {a for a in listed if not a.split(":", 1)[1].startswith(("Describe", "List"))}
        for action in listed:
            if evaluate([policy], action, arn, existing) is Decision.ALLOW:
                allowed.append(f"{action} on {resource.name}")
        for action in listed & set(SCALING_REQUEST_TAGGED):
            tagging = {**existing, **own_request}
            if owner and evaluate([policy], action, arn, tagging) is Decision.ALLOW:
                allowed.append(f"{action} with staging's tag on {resource.name}")
    assert not allowed, allowed
    # Account-wide: the reads only (the Describe* take no resource: Service Authorization
    # Reference; the tags are read as a preview with --refresh reads them).
    account_wide = {
        a for s in policy["Statement"] if s["Resource"] == "*" for a in _listed(s["Action"])
    }
    scaling = {a for a in account_wide if a.startswith("application-autoscaling:")}
    assert scaling == {
        "application-autoscaling:Describe*",
        "application-autoscaling:ListTagsForResource",
    }


def test_every_tagging_action_listed_is_known_to_add_tags() -> None:
    """The policy holds tag-adding actions to resources of no stack or the stack's own: each
    listed action that writes tags must be recognised as one (a new one with another name
    would otherwise be judged by the request's tags alone)."""
    listed = {
        action
        for spec in PERMISSIONS["types"].values()
        for key in ("create", "create_anywhere", "upsert", "manage")
        for action in spec.get(key, ())
    }
    not_adding = ("Get", "List", "Describe", "Untag", "Delete")
    writes_tags = {
        a
        for a in listed
        if "Tag" in a
        and not a.split(":")[1].startswith(not_adding)
        and a != "ecr:PutImageTagMutability"  # image tags, not resource tags
    }
    assert writes_tags, "no tagging action listed"
    assert {a for a in writes_tags if not adds_tags(a)} == set()
    assert not adds_tags("sagemaker:CreateEndpoint") and not adds_tags("iam:ListRoleTags")


def test_a_deploy_role_may_not_put_its_tag_on_another_stacks_resource(
    bootstrap: Plan, stacks: dict[str, Plan]
) -> None:
    """Staging's role may not tag production's or platform's tag-scoped resources with
    staging's tag (it would manage them from then on), with any tagging action their type
    lists; the same calls on a resource being created (no tags yet) are allowed."""
    policy = _policy(bootstrap, "mlstack-github-staging")
    theirs = {f"aws:ResourceTag/{TAG}": "production", f"aws:RequestTag/{TAG}": "staging"}
    new = {f"aws:RequestTag/{TAG}": "staging"}
    taken, refused_new, checked = [], [], set()
    for resource in [*stacks["production"].resources, *stacks["platform"].resources]:
        spec = PERMISSIONS["types"].get(resource.type, {})
        if spec.get("scope") != "tag" or "parent" in spec:
            continue
        for key, arn in (("create", _arn(resource)), ("upsert", _arn(resource)),
                         ("create_anywhere", "*"), ("manage", _arn(resource))):  # fmt: skip
            for action in filter(adds_tags, spec.get(key, ())):
                checked.add(resource.type)
                if evaluate([policy], action, arn, theirs) is Decision.ALLOW:
                    taken.append(f"{action} on {resource.type} {resource.name}")
                if key != "manage" and evaluate([policy], action, arn, new) is not Decision.ALLOW:
                    refused_new.append(f"{action} creating {resource.type} {resource.name}")
    assert {"aws:sagemaker/endpoint:Endpoint", "aws:kms/key:Key", "aws:ec2/vpc:Vpc",
            "aws:iam/role:Role", "aws:cloudwatch/metricAlarm:MetricAlarm"} <= checked  # fmt: skip
    assert not taken, taken
    assert not refused_new, refused_new


def test_untagged_resources_of_the_account_are_out_of_reach(bootstrap: Plan) -> None:
    policy = _policy(bootstrap, "mlstack-github-production")
    for action, arn in [
        (
            "sagemaker:DeleteEndpoint",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/someone-elses",
        ),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
        ("s3:PutBucketPolicy", "arn:aws:s3:::company-data"),
        (
            "s3:PutObject",
            "arn:aws:s3:::registry-artifacts-9a68b3d/pipelines/churn-classifier/code/x.py",
        ),
    ]:
        assert evaluate([policy], action, arn, {}) is Decision.IMPLICIT_DENY, action


def test_attaching_a_policy_outside_the_kits_list_is_refused(bootstrap: Plan) -> None:
    policy = _policy(bootstrap, "mlstack-github-production")
    role = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-role-4d8157f"
    context = {f"aws:ResourceTag/{TAG}": "production"}
    admin = {**context, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert evaluate([policy], "iam:AttachRolePolicy", role, admin) is Decision.IMPLICIT_DENY
    eks = {**context, "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}
    assert evaluate([policy], "iam:AttachRolePolicy", role, eks) is Decision.ALLOW
    passing = {**context, "iam:PassedToService": "lambda.amazonaws.com"}
    assert evaluate([policy], "iam:PassRole", role, passing) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize("environment", ["staging", "production", "platform"])
def test_no_deploy_role_can_change_the_bootstraps_own_access(
    bootstrap: Plan, environment: str
) -> None:
    """Even were a bootstrap role tagged as the stack's, every change is explicitly denied."""
    policy = _policy(bootstrap, f"mlstack-github-{environment}")
    names = [r.inputs["name"] for r in bootstrap.of_type("aws:iam/role:Role")]
    assert len(names) == 7
    for name in names:
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        context = {
            f"aws:ResourceTag/{TAG}": environment,
            "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        }
        for action in (
            "iam:PutRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:AttachRolePolicy",
            "iam:TagRole",
            "iam:DeleteRole",
            "iam:PassRole",
        ):
            assert evaluate([policy], action, arn, context) is Decision.EXPLICIT_DENY, (
                action,
                name,
            )
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"
    for action in (
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
        "iam:AddClientIDToOpenIDConnectProvider",
    ):
        assert evaluate([policy], action, provider, {}) is Decision.EXPLICIT_DENY, action


def test_only_the_release_role_writes_under_the_code_prefix(stacks: dict[str, Plan]) -> None:
    plan = stacks["production"]
    (bucket_policy,) = plan.of_type("aws:s3/bucketPolicy:BucketPolicy")
    policy = json.loads(bucket_policy.inputs["policy"])
    bucket = bucket_policy.inputs["bucket"]
    key = f"arn:aws:s3:::{bucket}/pipelines/churn-classifier/code/{'0' * 64}/preprocess.py"
    release = f"arn:aws:iam::{ACCOUNT}:role/mlstack-github-production-release"
    others = [
        f"arn:aws:iam::{ACCOUNT}:role/mlstack-github-production",
        f"arn:aws:iam::{ACCOUNT}:role/mlstack-model-release",
        f"arn:aws:iam::{ACCOUNT}:role/mlstack-github-staging-release",
        *(f"arn:aws:iam::{ACCOUNT}:role/{_name(r)}" for r in plan.of_type("aws:iam/role:Role")),
    ]
    secure = {"aws:SecureTransport": "true"}
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"):
        for principal in others:
            decision = evaluate([policy], action, key, {**secure, "aws:PrincipalArn": principal})
            assert decision is Decision.EXPLICIT_DENY, (action, principal)
        decision = evaluate([policy], action, key, {**secure, "aws:PrincipalArn": release})
        assert decision is not Decision.EXPLICIT_DENY, action
    # The denied prefix is the one the stack's pipelines read (and the release role uploads to).
    assert {"pipelines/churn-classifier/code"} == {
        s["Resource"].split("/", 1)[1].removesuffix("/*")
        for s in policy["Statement"]
        if s["Sid"].startswith("DenyCodeWrites")
    }
