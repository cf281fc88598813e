"""The bootstrap program: GitHub's OIDC provider and the workflow roles of one AWS account.

Run once per account by an administrator (``pulumi up`` in this directory); the repository
variables ``AWS_PREVIEW_ROLE_ARN`` and ``AWS_DEPLOY_ROLE_ARN`` take its outputs.
"""

import re
import sys
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws

from infra.components.github_access import GitHubAccess, GitHubAccessArgs

PROJECT = "mlstack-bootstrap"
REPOSITORY = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
ENVIRONMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")


def _config() -> tuple[str, str, list[str]]:
    config = pulumi.Config(PROJECT)
    problems = []
    repository = config.get("repository") or ""
    if not REPOSITORY.fullmatch(repository):
        problems.append(f"{PROJECT}:repository = {repository!r}: give the repository as owner/name")
    preview = config.get("previewEnvironment") or "preview"
    deploy = config.get_object("deployEnvironments") or ["staging", "production"]
    for environment in [preview, *deploy]:
        if not isinstance(environment, str) or not ENVIRONMENT.fullmatch(environment):
            problems.append(
                f"{PROJECT}: environment {environment!r}: letters, digits, '.', '_' and '-'"
            )
    if problems:
        raise pulumi.RunError("\n".join(problems))
    return repository, preview, list(deploy)


repository, preview_environment, deploy_environments = _config()
identity = aws.get_caller_identity_output()
partition = aws.get_partition_output()
access = GitHubAccess(
    "github",
    GitHubAccessArgs(
        repository=repository,
        preview_environment=preview_environment,
        deploy_environments=deploy_environments,
        partition=partition.partition,
        account_id=identity.account_id,
        max_session_seconds=3600,
        tags={"mlstack:stack": pulumi.get_stack(), "owner": "platform"},
    ),
)

pulumi.export("oidcProviderArn", access.provider.arn)
pulumi.export("previewRoleArn", access.preview_role.arn)
pulumi.export("deployRoleArns", {e: r.arn for e, r in access.deploy_roles.items()})
