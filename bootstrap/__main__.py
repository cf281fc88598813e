"""The bootstrap program: GitHub's OIDC provider and the workflow roles of one AWS account.

Run once per account by an administrator (``pulumi up`` in this directory), and again when a
stack's pipelines read step scripts from a new code prefix (a model gains retraining, or its
``codePrefix`` changes): each environment's release role may write only under the code
prefixes of the committed pipeline definitions of the stack of the same name. The
environments' variables ``AWS_PREVIEW_ROLE_ARN``, ``AWS_DEPLOY_ROLE_ARN`` and
``AWS_RELEASE_ROLE_ARN`` take its outputs.
"""

import re
import sys
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws
import yaml

from infra.components.github_access import DeployPermissions, GitHubAccess, GitHubAccessArgs
from mlstack.pipelines.scripts import stack_scripts

PROJECT = "mlstack-bootstrap"
ROOT = Path(__file__).resolve().parent.parent
"""The kit's checkout, whose stack files and pipeline definitions scope the release roles."""
REPOSITORY = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
DEPLOY_PERMISSIONS = Path(__file__).resolve().parent / "deploy_permissions.yaml"
"""Per resource type the stacks declare, what the deploy roles may do and on which ARNs."""
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


def _release_prefixes(environments: list[str]) -> dict[str, list[str]]:
    """Per environment with a stack file of its name, the code prefixes its pipelines read."""
    return {
        environment: sorted({ref.prefix for ref in stack_scripts(ROOT, environment)})
        for environment in environments
        if (ROOT / "stacks" / f"Pulumi.{environment}.yaml").is_file()
    }


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
        release_prefixes=_release_prefixes(deploy_environments),
        deploy_permissions=DeployPermissions.from_mapping(
            yaml.safe_load(DEPLOY_PERMISSIONS.read_text(encoding="utf-8"))
        ),
    ),
)

pulumi.export("oidcProviderArn", access.provider.arn)
pulumi.export("previewRoleArn", access.preview_role.arn)
pulumi.export("deployRoleArns", {e: r.arn for e, r in access.deploy_roles.items()})
pulumi.export("releaseRoleArns", {e: r.arn for e, r in access.release_roles.items()})
