"""``mlstack pipeline``: start a model's retraining pipeline, show the runs of a stack's
pipelines (SageMaker Pipelines through boto3), upload the step scripts its definitions read.

Pipeline names come from the stack file (``<model>-retraining``, ``<model>-batch``), the
region from its ``aws:region``; AWS settings (profile, credentials, ``AWS_ENDPOINT_URL``)
from the environment. boto3 is imported when a command runs.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from mlstack.cli.errors import EXIT_REMOTE, fail
from mlstack.cli.plan_cmd import ProjectDir

if TYPE_CHECKING:
    from mlstack.pipelines.stacks import PipelineModel

RECENT_RUNS = 5
"""Runs listed per pipeline by ``mlstack pipeline status``."""


def _stack_models(project_dir: Path, stack: str) -> tuple[str, dict[str, PipelineModel]]:
    from infra.config.errors import ConfigError
    from mlstack.offline.stack_files import StackFileError
    from mlstack.pipelines.stacks import stack_models

    try:
        config, models = stack_models(project_dir, stack)
    except (ConfigError, StackFileError) as err:
        fail(str(err))
    return config.region, models


def pipeline_names(model: PipelineModel) -> list[str]:
    """The pipelines a model declares, retraining first."""
    return [f"{model.name}-{kind}" for kind in model.settings.pipeline_kinds]


UPLOAD_DENIED_HINT = (
    "the release role may write only under the code prefixes of the committed definitions: "
    "after a new model or codePrefix, run pulumi up in bootstrap/ (README: Bootstrap)"
)


def register(app: typer.Typer) -> None:
    pipeline = typer.Typer(
        rich_markup_mode=None,
        name="pipeline",
        help="Start and inspect a model's SageMaker pipelines (retraining, batch).",
        no_args_is_help=True,
    )
    app.add_typer(pipeline)

    @pipeline.command("start")
    def start(
        stack: Annotated[str, typer.Argument(help="Stack whose model to retrain.")],
        model: Annotated[
            str,
            typer.Argument(help="Model name (in a single-model stack: its model package group)."),
        ],
        reason: Annotated[
            str, typer.Option("--reason", help="Why (the TriggerReason parameter).")
        ] = "manual",
        project_dir: ProjectDir = None,  # type: ignore[assignment]
    ) -> None:
        """Start the model's retraining pipeline now. The pipeline's first step still ends
        the run when another one started within minIntervalHours."""
        from botocore.exceptions import BotoCoreError, ClientError

        from mlstack.models.aws import AwsError, client

        region, models = _stack_models(project_dir, stack)
        if model not in models:
            fail(f"stack '{stack}' has no model '{model}' (models: {', '.join(sorted(models))})")
        if not models[model].settings.retraining.enabled:
            fail(
                f"stacks/Pulumi.{stack}.yaml: {models[model].key}.retraining.enabled is false: "
                "enable it to give the model a retraining pipeline"
            )
        name = f"{model}-retraining"
        try:
            response = client("sagemaker", region).start_pipeline_execution(
                PipelineName=name,
                PipelineExecutionDisplayName=f"{reason}-{uuid.uuid4().hex[:8]}",
                PipelineParameters=[{"Name": "TriggerReason", "Value": reason}],
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as err:
            fail(
                f"could not start {name}: {err.response['Error'].get('Message', err)}", EXIT_REMOTE
            )
        except (BotoCoreError, AwsError) as err:
            fail(f"could not start {name}: {err}", EXIT_REMOTE)
        sys.stdout.write(f"started {name}\n  {response['PipelineExecutionArn']}\n")

    @pipeline.command("status")
    def status(
        stack: Annotated[str, typer.Argument(help="Stack whose pipelines to show.")],
        model: Annotated[
            str | None, typer.Argument(help="Only this model (default: every model).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment]
    ) -> None:
        """The latest runs of every pipeline of the stack's models, newest first."""
        from botocore.exceptions import BotoCoreError, ClientError

        from mlstack.models.aws import AwsError, client

        region, models = _stack_models(project_dir, stack)
        if model is not None and model not in models:
            fail(f"stack '{stack}' has no model '{model}' (models: {', '.join(sorted(models))})")
        chosen = {model: models[model]} if model else models
        names = [n for _, m in sorted(chosen.items()) for n in pipeline_names(m)]
        if not names:
            fail(f"stack '{stack}' declares no pipelines: enable a model's retraining or batch")
        report: dict[str, list[dict[str, str]]] = {}
        try:
            sagemaker = client("sagemaker", region)
            for name in names:
                runs = sagemaker.list_pipeline_executions(
                    PipelineName=name,
                    SortBy="CreationTime",
                    SortOrder="Descending",
                    MaxResults=RECENT_RUNS,
                )["PipelineExecutionSummaries"]
                report[name] = [
                    {
                        "started": str(run.get("StartTime", "")),
                        "status": str(run.get("PipelineExecutionStatus", "")),
                        "name": str(run.get("PipelineExecutionDisplayName", "")),
                        "arn": str(run.get("PipelineExecutionArn", "")),
                    }
                    for run in runs
                ]
        except ClientError as err:
            fail(f"could not list runs: {err.response['Error'].get('Message', err)}", EXIT_REMOTE)
        except (BotoCoreError, AwsError) as err:
            fail(f"could not list runs: {err}", EXIT_REMOTE)
        if as_json:
            sys.stdout.write(orjson.dumps(report).decode() + "\n")
            return
        for name, runs in report.items():
            sys.stdout.write(f"{name}: {len(runs)} recent run(s)\n")
            for run in runs:
                sys.stdout.write(f"  {run['started']}  {run['status']:<10}  {run['name']}\n")

    @pipeline.command("upload-scripts")
    def upload_scripts(
        stack: Annotated[str, typer.Argument(help="Stack whose pipelines' scripts to upload.")],
        bucket: Annotated[
            str | None,
            typer.Option(
                "--bucket",
                help="The stack's artifacts bucket (default: the stack output artifactsBucket "
                "via the Pulumi CLI).",
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="List the keys; upload nothing.")
        ] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment]
    ) -> None:
        """Upload the step scripts the stack's committed pipeline definitions read, each to
        its content-addressed key (<codePrefix>/<sha256>/<script>). An object already there
        with the same sha256 is left alone; one with other content fails the upload.

        Exit codes: 0 uploaded (or nothing to upload), 2 a definition is stale or missing,
        3 S3 refused or holds other content at a key.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        from infra.config.errors import ConfigError
        from mlstack.cli.outputs import stack_output
        from mlstack.models.aws import AwsError, client, error_code
        from mlstack.offline.stack_files import StackFileError
        from mlstack.pipelines import scripts

        try:
            refs = scripts.stack_scripts(project_dir, stack)
        except (ConfigError, StackFileError, scripts.ScriptError) as err:
            fail(str(err))
        problems = scripts.stale_scripts(refs)
        if problems:
            fail("\n  ".join(["the committed definitions do not match the scripts:", *problems]))
        if not refs:
            sys.stdout.write(f"{stack}: no pipeline reads a step script; nothing to upload\n")
            return
        if dry_run:
            for ref in refs:
                sys.stdout.write(f"would upload {ref.key}  ({ref.definition})\n")
            return
        bucket = bucket or stack_output(stack, "artifactsBucket", project_dir)
        if not bucket:
            fail(
                "no artifacts bucket: give --bucket, or install the Pulumi CLI and deploy the "
                "stack first (its output artifactsBucket names it)"
            )
        region, _ = _stack_models(project_dir, stack)
        try:
            done = scripts.upload_scripts(client("s3", region), bucket, refs)
        except scripts.ScriptError as err:
            fail(str(err), EXIT_REMOTE)
        except ClientError as err:
            message = err.response.get("Error", {}).get("Message", str(err))
            hint = f"; {UPLOAD_DENIED_HINT}" if error_code(err) == "AccessDenied" else ""
            fail(
                f"could not upload to s3://{bucket}: {error_code(err)}: {message}{hint}",
                EXIT_REMOTE,
            )
        except (BotoCoreError, AwsError) as err:
            fail(f"could not upload to s3://{bucket}: {err}", EXIT_REMOTE)
        for item in done:
            sys.stdout.write(f"{item.action:<8}  s3://{bucket}/{item.key}\n")
