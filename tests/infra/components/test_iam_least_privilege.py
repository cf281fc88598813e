"""No role the kit declares carries a full-access or admin policy, or wildcard actions."""

from __future__ import annotations

import json

import pytest

from mlstack.offline.plan import Plan

STACKS = ("staging", "production")
BROAD = ("FullAccess", "AdministratorAccess", "PowerUserAccess")


@pytest.mark.parametrize("stack", STACKS)
def test_no_managed_full_access_or_admin_policy(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    attached = [
        r.inputs.get("policyArn", "")
        for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    ]
    for role in plan.of_type("aws:iam/role:Role"):
        attached += role.inputs.get("managedPolicyArns") or []
    assert not [arn for arn in attached if any(b in str(arn) for b in BROAD)]


@pytest.mark.parametrize("stack", STACKS)
def test_inline_policies_name_no_wildcard_actions(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    for policy in shipped_plans[stack].of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            assert not [a for a in actions if a == "*" or a.endswith(":*")], policy.name


@pytest.mark.parametrize("stack", STACKS)
def test_sagemaker_role_pulls_only_from_the_kits_repository(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    policy = next(p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "sagemaker" in p.name)
    pull = next(
        s
        for s in json.loads(policy.inputs["policy"])["Statement"]
        if s["Sid"] == "PullServingImage"
    )
    repository_name = plan.outputs["repositoryUrl"].rsplit("/", 1)[-1]
    assert pull["Resource"].endswith(f":repository/{repository_name}")
