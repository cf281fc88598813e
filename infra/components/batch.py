"""Scheduled batch inference: a SageMaker Pipeline with one transform step, started by an
EventBridge Scheduler schedule, and an alarm when a run fails.

Why a pipeline and not a scheduled job: SageMaker has no scheduled transform job, and a
schedule cannot call CreateTransformJob with a fresh job name each time. A pipeline names
each run's job itself, keeps the run history (``mlstack pipeline status``), retries by
policy, and publishes ``ExecutionFailed`` to CloudWatch, which the failure alarm watches.

The transform uses a model of its own built from the same approved model package version as
the online path (``model.packageVersion``), with network isolation and the stack's private
subnets; input and output stay in the artifacts bucket, output and volume encrypted with
the stack's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.alarms import AlarmDefinition, declare_alarm
from infra.components.endpoint import model_package_arn
from infra.components.errors import ResourceError
from infra.components.iam import policy_document, role_with_inline_policy, service_trust_policy
from infra.components.interpolation import concat
from infra.components.network import vpc_config
from infra.components.retraining import (
    SAGEMAKER_SERVICE,
    SCHEDULER_SERVICE,
    TRIGGER_PARAMETER,
    fill_parameters,
    sagemaker_arn,
    start_pipeline_policy,
)

PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
"""SageMaker Pipelines' execution metrics (ExecutionStarted, ExecutionFailed, ...)."""


def batch_failed_alarm() -> AlarmDefinition:
    """Any failed execution of the batch pipeline within five minutes."""
    return AlarmDefinition(
        key="batch-failed",
        description="a batch inference run failed",
        threshold=1,
        comparison="GreaterThanOrEqualToThreshold",
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        namespace=PIPELINE_NAMESPACE,
        metric_name="ExecutionFailed",
        statistic="Sum",
    )


@dataclass(frozen=True)
class BatchInferenceArgs:
    """Inputs of :class:`BatchInference`."""

    model: str
    """The model's name (pipeline ``<model>-batch``)."""
    definition: str
    """The generated pipeline definition (stacks/pipelines/<stack>-<model>-batch.json)."""
    partition: pulumi.Input[str]
    """AWS partition of the account."""
    model_package_group_name: str
    """Group of the approved version."""
    package_version: int
    """The approved version, the same the online path serves."""
    artifacts_bucket: pulumi.Input[str]
    """Bucket of the input and output prefixes."""
    artifacts_bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the output and the transform volumes."""
    repository_arns: Sequence[pulumi.Input[str]]
    """ECR repositories of the serving image (pull access)."""
    artifact_prefixes: Sequence[str]
    """Key prefixes of model artifacts the model may read (registered versions' files)."""
    input_prefix: str
    """Key prefix of the records to score."""
    output_prefix: str
    """Key prefix of the predictions."""
    schedule_expression: str
    """EventBridge Scheduler expression (UTC)."""
    topic_arn: pulumi.Input[str]
    """Notified when a run fails."""
    alarm_name: str
    """Name of the failure alarm."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets of the transform containers. Default none."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups, with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class BatchInference(pulumi.ComponentResource):
    """Batch model, transform pipeline, schedule and failure alarm.

    Raises :class:`ResourceError` for subnets without security groups (or the other way).

    Outputs: ``pipeline_name``, ``model_name``, ``schedule_name``.
    """

    def __init__(
        self, name: str, args: BatchInferenceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:batch:BatchInference", name, None, opts)
        if bool(args.subnet_ids) != bool(args.security_group_ids):
            raise ResourceError(
                "BatchInferenceArgs: subnet_ids and security_group_ids go together", self
            )
        child = pulumi.ResourceOptions(parent=self)
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke_opts).account_id
        region = aws.get_region_output(opts=invoke_opts).region
        pipeline_name = f"{args.model}-batch"
        bucket_arn = args.artifacts_bucket_arn

        model_role = role_with_inline_policy(
            f"{name}-model-role",
            policy_name=f"{name}-model-role-policy",
            description=f"Batch transform of {args.model}",
            trust_policy=service_trust_policy(SAGEMAKER_SERVICE, account),
            policy=policy_document(
                [
                    {
                        "Sid": "ReadModelAndInput",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": [
                            concat(bucket_arn, "/", prefix, "/*")
                            for prefix in (*args.artifact_prefixes, args.input_prefix)
                        ],
                    },
                    {
                        "Sid": "WritePredictions",
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": concat(bucket_arn, "/", args.output_prefix, "/*"),
                    },
                    {
                        "Sid": "ListArtifacts",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arn,
                    },
                    {
                        "Sid": "UseStackKey",
                        "Effect": "Allow",
                        "Action": [
                            "kms:Decrypt",
                            "kms:GenerateDataKey",
                            "kms:DescribeKey",
                            "kms:CreateGrant",
                        ],
                        "Resource": args.kms_key_arn,
                    },
                    {
                        "Sid": "PullServingImage",
                        "Effect": "Allow",
                        "Action": [
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability",
                        ],
                        "Resource": list(args.repository_arns),
                    },
                    {
                        "Sid": "EcrLogin",
                        "Effect": "Allow",
                        "Action": "ecr:GetAuthorizationToken",
                        "Resource": "*",
                    },
                    {
                        "Sid": "WriteTransformLogs",
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                        ],
                        "Resource": concat(
                            "arn:",
                            args.partition,
                            ":logs:",
                            region,
                            ":",
                            account,
                            ":log-group:/aws/sagemaker/TransformJobs:*",
                        ),
                    },
                ]
            ),
            max_session_duration_seconds=3600,
            tags=args.tags,
            parent=self,
        )
        vpc = vpc_config(args.subnet_ids, args.security_group_ids)
        self.model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=model_role.role.arn,
            primary_container={
                "model_package_name": model_package_arn(
                    args.partition,
                    region,
                    account,
                    args.model_package_group_name,
                    args.package_version,
                )
            },
            enable_network_isolation=True,
            vpc_config=vpc,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[model_role.policy]),
        )
        pipeline_role = role_with_inline_policy(
            f"{name}-pipeline-role",
            policy_name=f"{name}-pipeline-role-policy",
            description=f"Runs the {pipeline_name} transform jobs",
            trust_policy=service_trust_policy(SAGEMAKER_SERVICE, account),
            policy=policy_document(
                [
                    {
                        "Sid": "RunThisPipelinesTransforms",
                        "Effect": "Allow",
                        "Action": [
                            "sagemaker:CreateTransformJob",
                            "sagemaker:DescribeTransformJob",
                            "sagemaker:StopTransformJob",
                            "sagemaker:AddTags",
                        ],
                        "Resource": sagemaker_arn(
                            args.partition, region, account, "transform-job/pipelines-*"
                        ),
                    },
                    {
                        "Sid": "UseStackKey",
                        "Effect": "Allow",
                        "Action": ["kms:DescribeKey", "kms:CreateGrant"],
                        "Resource": args.kms_key_arn,
                    },
                ]
            ),
            max_session_duration_seconds=3600,
            tags=args.tags,
            parent=self,
        )
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=f"Batch inference of {args.model} v{args.package_version}",
            role_arn=pipeline_role.role.arn,
            pipeline_definition=fill_parameters(
                args.definition,
                {
                    "ArtifactsBucket": args.artifacts_bucket,
                    "KmsKeyId": args.kms_key_arn,
                    "ModelName": self.model.name,
                },
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pipeline_role.policy]),
        )
        scheduler_role = role_with_inline_policy(
            f"{name}-schedule-role",
            policy_name=f"{name}-schedule-role-policy",
            description="Starts one SageMaker pipeline and nothing else",
            trust_policy=service_trust_policy(SCHEDULER_SERVICE, account),
            policy=start_pipeline_policy(self.pipeline.arn),
            max_session_duration_seconds=3600,
            tags=args.tags,
            parent=self,
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            description=f"Batch inference of {args.model}",
            schedule_expression=args.schedule_expression,
            schedule_expression_timezone="UTC",
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=args.kms_key_arn,
            target={
                "arn": self.pipeline.arn,
                "role_arn": scheduler_role.role.arn,
                "sagemaker_pipeline_parameters": {
                    "pipeline_parameters": [{"name": TRIGGER_PARAMETER, "value": "schedule"}]
                },
                "retry_policy": {"maximum_retry_attempts": 0},
            },
            opts=child,
        )
        self.alarm = declare_alarm(
            f"{name}-failed",
            args.alarm_name,
            batch_failed_alarm(),
            {"PipelineName": self.pipeline.pipeline_name},
            args.topic_arn,
            role="operational",
            tags=args.tags,
            opts=child,
        )
        self.register_outputs(
            {
                "pipeline_name": self.pipeline.pipeline_name,
                "model_name": self.model.name,
                "schedule_name": self.schedule.name,
            }
        )
