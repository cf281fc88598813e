"""GitHub Actions' way into the account: the OIDC provider, a read-only preview role, and per
deploy environment a deploy role and a release role, each trusted by one repository and one
GitHub environment only.

The workflows assume these roles (``vars.AWS_PREVIEW_ROLE_ARN``, ``vars.AWS_DEPLOY_ROLE_ARN``,
``vars.AWS_RELEASE_ROLE_ARN``): no long-lived AWS keys exist. Trust is exact: ``aud`` is
``sts.amazonaws.com`` and ``sub`` is ``repo:<owner>/<repo>:environment:<environment>``, so a
workflow of another repository, a fork, or a job outside the environment (and so outside its
reviewers) cannot assume them.

The release role uploads the retraining pipelines' step scripts and can do nothing else: put
and read objects under the given code prefixes of the stack's artifacts bucket, and have S3
encrypt them with the bucket's key. The scripts run inside the pipelines with their execution
role, so who may write there decides what the pipelines run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.interpolation import json_document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
KIT_PREFIX = "mlstack"
"""Every named resource of the kit starts with this (endpoints, roles, buckets, repositories)."""

PREVIEW_ACTIONS = (
    "application-autoscaling:Describe*",
    "application-autoscaling:ListTagsForResource",
    "cloudformation:GetResource",
    "cloudformation:GetResourceRequestStatus",
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
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucket*",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "sagemaker:Describe*",
    "sagemaker:List*",
    "scheduler:GetSchedule",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sts:GetCallerIdentity",
)
"""What ``pulumi preview`` reads to refresh state: descriptions and configuration, never data
(no s3:GetObject, no kms:Decrypt, no secrets)."""

ARTIFACTS_BUCKET_PATTERN = "registry-artifacts-???????"
"""The stacks' artifacts buckets: the program's ``registry`` component names its bucket
``registry-artifacts``, to which Pulumi's auto-naming appends a dash and seven random
characters (a test holds every shipped stack's planned bucket to this pattern). ``?`` matches
exactly one character where ``*`` would match any run, including ``/`` and so other buckets'
deeper keys; the only other names it admits are buckets of a shorter ``registry-artifacts-``
name holding the same code prefix one directory down, which the kit never creates."""


@dataclass(frozen=True)
class DeployPermissions:
    """What ``pulumi up`` of a stack calls AWS for, per resource type, and how each type's
    resources are recognised as the stack's (``bootstrap/deploy_permissions.yaml`` holds the
    data and its sources; :meth:`from_mapping` takes it as parsed)."""

    tag_key: str
    tag_scoped_resources: Mapping[str, str]
    managed_policies: Sequence[str]
    service_linked_roles: Sequence[str]
    reads: Sequence[str]
    types: Mapping[str, Mapping[str, Any]]
    outside_iam: Sequence[str]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DeployPermissions:
        """From the parsed document."""
        return cls(
            tag_key=data["tag_key"],
            tag_scoped_resources=data["tag_scoped_resources"],
            managed_policies=data["managed_policies"],
            service_linked_roles=data["service_linked_roles"],
            reads=data["reads"],
            types=data["types"],
            outside_iam=data["outside_iam"],
        )


def _actions(spec: Mapping[str, Any], *keys: str) -> set[str]:
    return {action for key in keys for action in spec.get(key, ())}


def adds_tags(action: str) -> bool:
    """Whether ``action`` puts tags on a resource (``sagemaker:AddTags``, ``ec2:CreateTags``,
    ``iam:TagRole``, ``kms:TagResource``, ``s3:PutBucketTagging``...).

    Creating a tag-scoped resource needs one, judged by the tags in the request; the same
    action on an existing resource would let a stack's role put its own tag on another
    stack's resource and manage it from then on. So wherever a create list holds one, the
    policy also requires the resource to have no stack tag or the stack's own
    (``aws:ResourceTag`` with ``IfExists``: a resource being created has no tags yet)."""
    verb = action.split(":", 1)[1]
    return (
        verb.startswith("Tag")
        or verb in ("AddTags", "CreateTags", "AddTagsToResource")
        or (verb.startswith("Put") and verb.endswith("Tagging"))
    )


def _tagging(actions: set[str]) -> set[str]:
    return {action for action in actions if adds_tags(action)}


def deploy_policy_document(
    permissions: DeployPermissions,
    stack: str,
    partition: str,
    account_id: str,
    protected_arns: Sequence[str],
) -> dict[str, Any]:
    """The deploy role's policy for ``stack``: each resource type's actions on the stack's
    resources only (by the stack's tag, or by the names the program gives them), roles passed
    only to the services that take them, and nothing at all on ``protected_arns`` (the
    bootstrap's own roles and OIDC provider)."""

    def fill(pattern: str) -> str:
        return pattern.format(partition=partition, account=account_id, stack=stack)

    tag = permissions.tag_key
    types = permissions.types.values()
    tagged = [s for s in types if s["scope"] == "tag"]
    services = sorted(
        {a.split(":", 1)[0] for s in tagged for a in _actions(s, "create", "upsert", "manage")}
    )
    tagged_arns = [fill(permissions.tag_scoped_resources[service]) for service in services]
    named: dict[tuple[str, ...], set[str]] = {}
    for spec in types:
        if spec["scope"] != "tag":
            patterns = tuple(fill(p) for p in spec["scope"])
            named.setdefault(patterns, set()).update(_actions(spec, "create", "manage"))
    roles = fill(permissions.tag_scoped_resources["iam"])
    create = set().union(*(_actions(s, "create") for s in tagged))
    create_anywhere = set().union(*(_actions(s, "create_anywhere") for s in types))
    not_another_stacks = {
        "StringEquals": {f"aws:RequestTag/{tag}": stack},
        "StringEqualsIfExists": {f"aws:ResourceTag/{tag}": stack},
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "CreateWithTheStackTag",
            "Effect": "Allow",
            "Action": sorted(create - _tagging(create)),
            "Resource": tagged_arns,
            "Condition": {"StringEquals": {f"aws:RequestTag/{tag}": stack}},
        },
        # Calls that create or also change an existing resource (tagging, and Application
        # Auto Scaling's RegisterScalableTarget): never on a resource of another stack.
        {
            "Sid": "CreateOrUpdateWithTheStackTag",
            "Effect": "Allow",
            "Action": sorted(_tagging(create).union(*(_actions(s, "upsert") for s in tagged))),
            "Resource": tagged_arns,
            "Condition": not_another_stacks,
        },
        {
            "Sid": "ManageWhatCarriesTheStackTag",
            "Effect": "Allow",
            "Action": sorted(set().union(*(_actions(s, "manage") for s in tagged))),
            "Resource": tagged_arns,
            "Condition": {"StringEquals": {f"aws:ResourceTag/{tag}": stack}},
        },
        {
            "Sid": "CreateUnaddressedWithTheStackTag",
            "Effect": "Allow",
            "Action": sorted(create_anywhere - _tagging(create_anywhere)),
            "Resource": "*",
            "Condition": {"StringEquals": {f"aws:RequestTag/{tag}": stack}},
        },
        {
            "Sid": "TagUnaddressedWithTheStackTag",
            "Effect": "Allow",
            "Action": sorted(_tagging(create_anywhere)),
            "Resource": "*",
            "Condition": not_another_stacks,
        },
        # Actions that support no resource type (Cloud Control's): the service calls they make
        # are judged by the statements above.
        {
            "Sid": "UnaddressedCalls",
            "Effect": "Allow",
            "Action": sorted(set().union(*(_actions(s, "anywhere") for s in types))),
            "Resource": "*",
        },
    ]
    for index, (patterns, actions) in enumerate(sorted(named.items())):
        statements.append(
            {
                "Sid": f"ManageByName{index}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(patterns),
            }
        )
    statements += [
        {"Sid": "AttachOnlyTheKitsManagedPolicies", "Effect": "Allow",
         "Action": sorted(set().union(*(_actions(s, "attach") for s in types))),
         "Resource": roles,
         "Condition": {
             "StringEquals": {f"aws:ResourceTag/{tag}": stack},
             "ArnEquals": {"iam:PolicyARN": [fill(p) for p in permissions.managed_policies]}}},
        {"Sid": "PassTheStacksRolesToTheirServices", "Effect": "Allow",
         "Action": "iam:PassRole", "Resource": roles,
         "Condition": {"StringEquals": {
             f"aws:ResourceTag/{tag}": stack,
             "iam:PassedToService": sorted({s["passes"]["to"] for s in types if "passes" in s})}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": fill("arn:{partition}:iam::{account}:role/aws-service-role/*"),
         "Condition": {"StringEquals": {
             "iam:AWSServiceName": list(permissions.service_linked_roles)}}},
        {"Sid": "ReadEverything", "Effect": "Allow",
         "Action": sorted({*PREVIEW_ACTIONS, *permissions.reads}), "Resource": "*"},
        {"Sid": "NeverTheBootstrapsOwnAccess", "Effect": "Deny", "Action": "iam:*",
         "Resource": sorted(protected_arns)},
    ]  # fmt: skip
    return {"Version": "2012-10-17", "Statement": statements}


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
    deploy_permissions: DeployPermissions | None = None
    """What the deploy roles may do (``bootstrap/deploy_permissions.yaml``). Default None:
    the deploy roles may only read, as the preview role."""
    release_prefixes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per deploy environment, the key prefixes (no trailing slash) its release role may write
    step scripts under: the code prefixes of the pipeline definitions of the stack of the same
    name. Default none: the release roles may write nothing."""


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
                f"{name}-deploy-{environment}", environment, self._deploy_policy(environment)
            )
            for environment in args.deploy_environments
        }
        unknown = sorted(set(args.release_prefixes) - set(args.deploy_environments))
        if unknown:
            raise pulumi.ResourceError(
                f"release_prefixes names {', '.join(unknown)}, not deploy environments", self
            )
        self.release_roles = {
            environment: self._role(
                f"{name}-release-{environment}",
                environment,
                self._release_policy(args.release_prefixes.get(environment, ())),
                suffix="-release",
            )
            for environment in args.deploy_environments
        }
        self.register_outputs(
            {
                "oidcProviderArn": self.provider.arn,
                "previewRoleArn": self.preview_role.arn,
                "deployRoleArns": {e: r.arn for e, r in self.deploy_roles.items()},
                "releaseRoleArns": {e: r.arn for e, r in self.release_roles.items()},
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

    def _deploy_policy(self, environment: str) -> pulumi.Output[str]:
        """Manage the resources of the stack named ``environment`` (see
        :func:`deploy_policy_document`); only read without ``deploy_permissions``."""
        args = self._args
        permissions = args.deploy_permissions
        if permissions is None:
            return self._preview_policy()
        names = [self._role_name(args.preview_environment)] + [
            self._role_name(e, suffix)
            for e in args.deploy_environments
            for suffix in ("", "-release")
        ]

        def document(resolved: list[str]) -> str:
            partition, account = resolved
            protected = [f"arn:{partition}:iam::{account}:role/{n}" for n in names] + [
                f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"
            ]
            return json.dumps(
                deploy_policy_document(permissions, environment, partition, account, protected)
            )

        return pulumi.Output.all(args.partition, args.account_id).apply(document)

    @staticmethod
    def _role_name(environment: str, suffix: str = "") -> str:
        return f"{KIT_PREFIX}-github-{environment}{suffix}"

    def _release_policy(self, prefixes: Sequence[str]) -> pulumi.Output[str] | None:
        """Put and read the step scripts under ``prefixes`` of a stack's artifacts bucket in
        this account, encrypted by S3 with the bucket's key; None without prefixes."""
        if not prefixes:
            return None
        args = self._args
        objects = [
            pulumi.Output.format(
                "arn:{0}:s3:::{1}/{2}/*", args.partition, ARTIFACTS_BUCKET_PATTERN, prefix
            )
            for prefix in sorted(set(prefixes))
        ]
        keys = pulumi.Output.format("arn:{0}:kms:*:{1}:key/*", args.partition, args.account_id)
        return json_document(
            {
                "Version": "2012-10-17",
                "Statement": [
                    # GetObject: the upload reads an existing object's checksum (HeadObject)
                    # to leave the same bytes alone and refuse other content at a key.
                    {"Sid": "WriteStepScripts", "Effect": "Allow",
                     "Action": ["s3:PutObject", "s3:GetObject"], "Resource": objects,
                     "Condition": {"StringEquals": {"s3:ResourceAccount": args.account_id}}},
                    {"Sid": "EncryptThroughS3", "Effect": "Allow",
                     "Action": "kms:GenerateDataKey", "Resource": keys,
                     "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
                ],
            }
        )  # fmt: skip

    def _role(
        self,
        name: str,
        environment: str,
        policy: pulumi.Output[str] | None,
        suffix: str = "",
    ) -> aws.iam.Role:
        inline = [aws.iam.RoleInlinePolicyArgs(name="scope", policy=policy)] if policy else []
        return aws.iam.Role(
            name,
            name=self._role_name(environment, suffix),
            description=f"GitHub Actions, {self._args.repository}, environment {environment}"
            + (" (uploads pipeline step scripts)" if suffix else ""),
            assume_role_policy=self._trust(environment),
            max_session_duration=self._args.max_session_seconds,
            inline_policies=inline,
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
