"""IAM shared by the components: policy documents and the one role-with-inline-policy builder.

Documents are serialised with ``json_document(..., sort_keys=True)``: Outputs sit in
the document by key, and the text is what ``json.dumps(doc, sort_keys=True)`` gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.interpolation import concat, json_document

POLICY_VERSION = "2012-10-17"


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document of ``statements`` (which may hold Outputs), keys sorted."""
    return json_document({"Version": POLICY_VERSION, "Statement": list(statements)}, sort_keys=True)


def service_trust_policy(
    service: str, account_id: pulumi.Input[str] | None = None
) -> pulumi.Output[str]:
    """A role trust policy for an AWS service principal, scoped to this account if given
    (``aws:SourceAccount``, against the confused-deputy problem)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return policy_document([statement])


def account_root(partition: pulumi.Input[str], account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """The account's root principal ARN (the account as a whole, administered through IAM)."""
    return concat("arn:", partition, ":iam::", account_id, ":root")


def managed_policy_arn(partition: pulumi.Input[str], policy_name: str) -> pulumi.Output[str]:
    """ARN of an AWS managed policy in ``partition``."""
    return concat("arn:", partition, ":iam::aws:policy/", policy_name)


@dataclass(frozen=True)
class RoleWithPolicy:
    """A role and the inline policy that grants its permissions."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy


def role_with_inline_policy(
    role_name: str,
    *,
    trust_policy: pulumi.Input[str],
    policy: pulumi.Input[str],
    parent: pulumi.Resource,
    policy_name: str | None = None,
    description: str | None = None,
    max_session_duration_seconds: int | None = None,
    tags: Mapping[str, str] | None = None,
) -> RoleWithPolicy:
    """Declare role ``role_name`` (trusting ``trust_policy``) and its inline ``policy``, both
    children of ``parent``. The policy resource is named ``policy_name`` (default: the role's
    name); depend on it, not on the role, before using the role's permissions."""
    role = aws.iam.Role(
        role_name,
        description=description,
        assume_role_policy=trust_policy,
        max_session_duration=max_session_duration_seconds,
        tags=dict(tags) if tags is not None else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    inline = aws.iam.RolePolicy(
        policy_name or role_name,
        role=role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return RoleWithPolicy(role=role, policy=inline)
