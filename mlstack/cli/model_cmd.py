"""``mlstack model``: register a model version, approve it, promote it into a stack.

The AWS tooling is imported when a command runs, so ``mlstack plan`` never loads boto3.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import orjson
import typer

from mlstack.cli.errors import EXIT_POLICY, EXIT_REMOTE, fail
from mlstack.cli.outputs import stack_output
from mlstack.cli.plan_cmd import ProjectDir

Region = Annotated[
    str | None,
    typer.Option("--region", help="AWS region (default: AWS_DEFAULT_REGION or the profile)."),
]
REPOSITORY_ENV = "MLSTACK_REPOSITORY_URL"
BUCKET_ENV = "MLSTACK_ARTIFACTS_BUCKET"
AsJson = Annotated[bool, typer.Option("--json", help="Print the model version as JSON.")]


def _print_version(version: object, as_json: bool, verb: str) -> None:
    from mlstack.models.registry import ModelVersion

    assert isinstance(version, ModelVersion)
    if as_json:
        payload = {
            "group": version.group,
            "version": version.version,
            "arn": version.arn,
            "status": version.status,
            "image": version.image,
            "artifact": version.artifact,
        }
        sys.stdout.write(orjson.dumps(payload).decode() + "\n")
    else:
        sys.stdout.write(f"{verb} {version.describe()}\n  {version.arn}\n")


def register(app: typer.Typer) -> None:
    model = typer.Typer(
        rich_markup_mode=None,
        name="model",
        help="Register, approve and promote model versions (SageMaker Model Registry).",
        no_args_is_help=True,
    )
    app.add_typer(model)

    @model.command("register")
    def register_version(
        stack: Annotated[
            str, typer.Option("--stack", help="Stack whose repository and bucket hold the model.")
        ],
        group: Annotated[str, typer.Option("--group", help="Model package group.")],
        image: Annotated[
            str,
            typer.Option("--image", help="Serving image: <stack repository>@sha256:<digest>."),
        ],
        artifact: Annotated[
            str,
            typer.Option("--artifact", help="s3:// URI of the artifact in the stack's bucket."),
        ],
        repository_url: Annotated[
            str | None,
            typer.Option(
                "--repository-url",
                envvar=REPOSITORY_ENV,
                help="The stack's ECR repository URL (default: its repositoryUrl output).",
            ),
        ] = None,
        artifacts_bucket: Annotated[
            str | None,
            typer.Option(
                "--artifacts-bucket",
                envvar=BUCKET_ENV,
                help="The stack's artifacts bucket (default: its artifactsBucket output).",
            ),
        ] = None,
        project_dir: ProjectDir = None,  # type: ignore[assignment]
        description: Annotated[
            str | None, typer.Option("--description", help="What changed in this version.")
        ] = None,
        region: Region = None,
        as_json: AsJson = False,
    ) -> None:
        """Create a model version awaiting manual approval (PendingManualApproval).

        Only the stack's own repository, pinned by digest, and an artifact in the stack's
        bucket are accepted; the registering principal is recorded, so that someone else
        approves.
        """
        from mlstack.models import registry as model_registry
        from mlstack.models.aws import AwsError, AwsSetupError, client

        repository_url = repository_url or stack_output(stack, "repositoryUrl", project_dir)
        artifacts_bucket = artifacts_bucket or stack_output(stack, "artifactsBucket", project_dir)
        if not repository_url or not artifacts_bucket:
            fail(
                f"which repository and bucket does '{stack}' use? pass --repository-url and "
                f"--artifacts-bucket, or set {REPOSITORY_ENV} and {BUCKET_ENV} (the stack "
                "outputs repositoryUrl and artifactsBucket)"
            )
        stores = model_registry.StackStores(repository_url, artifacts_bucket)
        try:
            created = model_registry.register(
                client("sagemaker", region),
                client("sts", region),
                group,
                image,
                artifact,
                stores,
                description,
            )
        except (ValueError, AwsSetupError) as err:
            fail(str(err))
        except AwsError as err:
            fail(str(err), EXIT_REMOTE)
        _print_version(created, as_json, "registered")

    @model.command("approve")
    def approve(
        group: Annotated[str, typer.Argument(help="Model package group.")],
        version: Annotated[int, typer.Argument(help="Version number to approve.", min=1)],
        note: Annotated[
            str | None, typer.Option("--note", help="Why it is approved (audit trail).")
        ] = None,
        allow_self_approval: Annotated[
            bool,
            typer.Option(
                "--allow-self-approval",
                help="Approve a version you registered yourself (for one-person teams).",
            ),
        ] = False,
        region: Region = None,
        as_json: AsJson = False,
    ) -> None:
        """Approve a model version so that stacks may serve it.

        The principal that registered the version may not approve it without
        --allow-self-approval.
        """
        from mlstack.models import registry as model_registry
        from mlstack.models.aws import AwsError, AwsSetupError, client

        try:
            approved = model_registry.approve(
                client("sagemaker", region),
                client("sts", region),
                group,
                version,
                note,
                allow_self_approval,
            )
        except model_registry.SelfApprovalError as err:
            fail(str(err), EXIT_POLICY)
        except AwsSetupError as err:
            fail(str(err))
        except AwsError as err:
            fail(str(err), EXIT_REMOTE)
        _print_version(approved, as_json, "approved")

    @model.command("migrate")
    def migrate(
        stack: Annotated[str, typer.Argument(help="Single-model stack to migrate.")],
        name: Annotated[
            str | None,
            typer.Argument(help="The model's name (default: its package group, lower case)."),
        ] = None,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Move STACK's model from mlstack:model and its sections to mlstack:models with one
        entry (legacyNames: true), keeping every URN and physical name; comments move along.

        The result is validated before the file is replaced. Review it with
        `mlstack diff STACK --base origin/main`: nothing is created, replaced or deleted.
        Exit codes: 0 migrated, 2 bad or already migrated stack file.
        """
        from mlstack.models.migrate import migrate_stack
        from mlstack.models.stack_file import StackEditError

        try:
            path, model_name = migrate_stack(project_dir, stack, name)
        except StackEditError as err:
            fail(str(err))
        sys.stderr.write(f"migrated {path.name}: mlstack:models.{model_name} (legacyNames)\n")

    @model.command("promote")
    def promote(
        stack: Annotated[str, typer.Argument(help="Stack to promote: staging, production.")],
        model_name: Annotated[
            str | None,
            typer.Argument(
                metavar="[MODEL]", help="The model of mlstack:models to promote (its name)."
            ),
        ] = None,
        version: Annotated[
            int | None, typer.Option("--version", help="Approved version (required).", min=1)
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the diff, leave the file.")
        ] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Point both serving paths of a stack at an approved model version.

        Checks the version exists in the stack's model package group and is Approved, then
        rewrites the stack file atomically (comments and formatting kept) and prints the
        diff: mlstack:model.packageVersion; with EKS, kubernetes.modelArtifact, imageDigest
        and modelVersion from the model package, and the new artifact's pins read from S3
        (modelArtifactVersionId; modelArtifactSha256 unless the stack pins by version id
        alone); drift baselines stored under v<N>/. In a
        stack of many models, name the MODEL: only its keys under mlstack:models.<MODEL>
        change, so only that model's resources do. On any failure the file is left as it
        was; a file changed meanwhile is not overwritten.
        Exit codes: 0 promoted (or already there), 2 bad stack file, 3 AWS check failed.
        """
        from mlstack.models import registry as model_registry
        from mlstack.models import stack_file as stack_model
        from mlstack.models.aws import AwsError, AwsSetupError, client
        from mlstack.models.promotion import PromotionError, promotion_edits

        if version is None:
            fail("promote needs --version N: the approved version to serve")
        try:
            current = stack_model.read_stack(project_dir, stack, rewrite=not dry_run)
            served = current.served(model_name)
            promoted = current.model_of(model_name)
            if promoted.version is None:
                stack_model.promoted_text(current.text, current.path, version, model_name)
        except stack_model.StackEditError as err:
            fail(str(err))
        try:
            found = model_registry.find(
                client("sagemaker", promoted.region), promoted.group, version
            )
        except AwsSetupError as err:
            fail(str(err))
        except AwsError as err:
            fail(str(err), EXIT_REMOTE)
        if found.status != model_registry.APPROVED:
            fail(
                f"{found.describe()} is not approved: run "
                f"'mlstack model approve {found.group} {found.version}' after review",
                EXIT_REMOTE,
            )
        repository_url = None
        eks_enabled = (served.view if served is not None else current.config).eks.enabled
        if eks_enabled:
            repository_url = os.environ.get(REPOSITORY_ENV) or stack_output(
                stack, "repositoryUrl", project_dir
            )
        from mlstack.models.artifact_pins import ArtifactPins, resolve_pins

        def pins(uri: str, with_sha256: bool) -> ArtifactPins:
            return resolve_pins(client("s3", promoted.region), uri, with_sha256)

        try:
            promotion = promotion_edits(current.config, found, repository_url, served, pins)
        except AwsSetupError as err:
            fail(str(err))
        except (PromotionError, AwsError) as err:
            fail(str(err), EXIT_REMOTE)
        target = f"{stack} model {model_name}" if model_name else stack
        if not promotion.edits:
            sys.stderr.write(f"{target} already serves {found.describe()}: nothing to change\n")
            return
        try:
            new_text = stack_model.apply_edits(current.text, current.path, promotion.edits)
            stack_model.validate(project_dir, stack, new_text)
            if not dry_run:
                stack_model.replace_if_unchanged(current.path, current.text, new_text)
        except stack_model.StackEditError as err:
            fail(str(err))
        label = os.path.relpath(current.path, project_dir)
        sys.stdout.write(stack_model.unified_diff(current.text, new_text, label))
        for note in promotion.notes:
            sys.stderr.write(f"note: {note}\n")
        verb = "would promote" if dry_run else "promoted"
        sys.stderr.write(f"{verb} {target} to {found.describe()}\n")
