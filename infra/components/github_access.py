"""GitHub Actions' way into the account: the OIDC provider, a read-only preview role and one
deploy role per environment, each trusted by one repository and one GitHub environment only.

The workflows assume these roles (``vars.AWS_PREVIEW_ROLE_ARN``, ``vars.AWS_DEPLOY_ROLE_ARN``):
no long-lived AWS keys exist. Trust is exact: ``aud`` is ``sts.amazonaws.com`` and ``sub`` is
``repo:<owner>/<repo>:environment:<environment>``, so a workflow of another repository, a
fork, or a job outside the environment (and so outside its reviewers) cannot assume them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.interpolation import json_document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
KIT_PREFIX = "mlstack"
"""Every named resource of the kit starts with this (endpoints, roles, buckets, repositories)."""

PREVIEW_ACTIONS = (
    "application-autoscaling:Describe*",
    "cloudwatch:Describe*",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListDashboards",
    "cloudwatch:ListTagsForResource",
    "ec2:Describe*",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "eks:Describe*",
    "eks:List*",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "s3:GetBucket*",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:ListBucket",
    "sagemaker:Describe*",
    "sagemaker:List*",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sts:GetCallerIdentity",
)
"""What ``pulumi preview`` reads to refresh state: descriptions and configuration, never data
(no s3:GetObject, no kms:Decrypt, no secrets)."""

DEPLOY_SERVICES = (
    "application-autoscaling",
    "cloudwatch",
    "ecr",
    "eks",
    "kms",
    "logs",
    "s3",
    "sagemaker",
    "sns",
)
"""Services whose resources the kit creates and names with its prefix."""


@dataclass
class GitHubAccessArgs:
    """Inputs of :class:`GitHubAccess`."""

    repository: str
    """``owner/name`` of the repository whose workflows may assume the roles."""
    preview_environment: str
    """GitHub environment of the preview job (holds the read-only role)."""
    deploy_environments: Sequence[str]
    """GitHub environments that deploy (one role each, e.g. staging and production)."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    account_id: pulumi.Input[str]
    """The account the roles live in and may manage."""
    max_session_seconds: int
    """Longest session a role grants, in seconds (3600-43200)."""
    tags: dict[str, str]


class GitHubAccess(pulumi.ComponentResource):
    """The GitHub OIDC provider and the roles the workflows assume."""

    def __init__(
        self, name: str, args: GitHubAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:github_access:GitHubAccess", name, None, opts)
        if not 3600 <= args.max_session_seconds <= 43200:
            raise pulumi.ResourceError("max_session_seconds is 3600-43200", self)
        if args.preview_environment in args.deploy_environments:
            raise pulumi.ResourceError(
                "the preview environment must not be a deploy environment: its role is "
                "read-only and the deploy roles must stay behind their own environments",
                self,
            )
        self._args = args
        self.provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=f"https://{GITHUB_OIDC_HOST}",
            client_id_lists=[STS_AUDIENCE],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.preview_role = self._role(
            f"{name}-preview", args.preview_environment, self._preview_policy()
        )
        self.deploy_roles = {
            environment: self._role(
                f"{name}-deploy-{environment}", environment, self._deploy_policy()
            )
            for environment in args.deploy_environments
        }
        self.register_outputs(
            {
                "oidcProviderArn": self.provider.arn,
                "previewRoleArn": self.preview_role.arn,
                "deployRoleArns": {e: r.arn for e, r in self.deploy_roles.items()},
            }
        )

    def _trust(self, environment: str) -> pulumi.Output[str]:
        """Only this repository's jobs in ``environment``, with GitHub's audience for STS."""
        return json_document(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": self.provider.arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                                f"{GITHUB_OIDC_HOST}:sub": (
                                    f"repo:{self._args.repository}:environment:{environment}"
                                ),
                            }
                        },
                    }
                ],
            }
        )

    def _preview_policy(self) -> pulumi.Output[str]:
        return json_document(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "ReadConfiguration", "Effect": "Allow",
                     "Action": list(PREVIEW_ACTIONS), "Resource": "*"},
                ],
            }
        )  # fmt: skip

    def _deploy_policy(self) -> pulumi.Output[str]:
        """Manage the kit's resources (named with its prefix or tagged with its stack tag)."""
        args = self._args
        prefixed = [
            pulumi.Output.format(
                "arn:{0}:{1}:*:{2}:*{3}*", args.partition, service, args.account_id, KIT_PREFIX
            )
            for service in DEPLOY_SERVICES
            if service != "s3"
        ]
        prefixed.append(pulumi.Output.format("arn:{0}:s3:::{1}*", args.partition, KIT_PREFIX))
        roles = pulumi.Output.format(
            "arn:{0}:iam::{1}:role/{2}*", args.partition, args.account_id, KIT_PREFIX
        )
        return json_document(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "KitResources", "Effect": "Allow",
                     "Action": [f"{service}:*" for service in DEPLOY_SERVICES],
                     "Resource": prefixed},
                    {"Sid": "KitNetworkByTag", "Effect": "Allow", "Action": "ec2:*",
                     "Resource": "*",
                     "Condition": {"StringLike": {"aws:ResourceTag/mlstack:stack": "*"}}},
                    {"Sid": "TagNewNetworkResources", "Effect": "Allow", "Action": "ec2:Create*",
                     "Resource": "*",
                     "Condition": {"StringLike": {"aws:RequestTag/mlstack:stack": "*"}}},
                    {"Sid": "KitRoles", "Effect": "Allow",
                     "Action": ["iam:CreateRole", "iam:DeleteRole", "iam:GetRole",
                                "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy",
                                "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:TagRole",
                                "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
                                "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                                "iam:ListInstanceProfilesForRole",
                                "iam:CreateOpenIDConnectProvider",
                                "iam:DeleteOpenIDConnectProvider",
                                "iam:GetOpenIDConnectProvider",
                                "iam:TagOpenIDConnectProvider"],
                     "Resource": [roles, pulumi.Output.format(
                         "arn:{0}:iam::{1}:oidc-provider/*", args.partition, args.account_id)]},
                    {"Sid": "ReadEverything", "Effect": "Allow",
                     "Action": list(PREVIEW_ACTIONS), "Resource": "*"},
                ],
            }
        )  # fmt: skip

    def _role(self, name: str, environment: str, policy: pulumi.Output[str]) -> aws.iam.Role:
        return aws.iam.Role(
            name,
            name=f"{KIT_PREFIX}-github-{environment}",
            description=f"GitHub Actions, {self._args.repository}, environment {environment}",
            assume_role_policy=self._trust(environment),
            max_session_duration=self._args.max_session_seconds,
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="scope", policy=policy)],
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
