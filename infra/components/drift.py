"""Drift detection: a Model Monitor data-quality job definition on the endpoint's captured
data, an hourly monitoring schedule, and an alarm on the watched features' baseline drift.

The analyzer image is SageMaker's own ``sagemaker-model-monitor-analyzer``, found with the
provider's prebuilt-image lookup for the stack's region (never hard-coded). Reports land in
``s3://<artifacts>/monitoring/<endpoint>/data-quality`` encrypted with the stack's key; the
job's volume is encrypted with it too, and traffic between job containers is encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.alarms import declare_alarm, drift_alarm
from infra.components.iam import service_trust_policy
from infra.components.s3 import s3_uri

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
ANALYZER_TAG = "latest"
HOURLY = "cron(0 * ? * * *)"
"""Model Monitor's hourly schedule expression."""
MONITORING_PREFIX = "monitoring"


def _object_arn(partition: str, uri: str) -> str:
    return f"arn:{partition}:s3:::{uri.removeprefix('s3://')}"


def monitoring_role_policy(
    *,
    partition: str,
    region: str,
    account: str,
    bucket_arn: str,
    capture_prefix: str,
    output_prefix: str,
    baseline_uris: Sequence[str],
    kms_key_arn: str,
) -> str:
    """Least privilege for the monitoring job: read captured data and baselines, write
    reports, use the stack's key, write its logs and Model Monitor metrics."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadCapturedData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                f"{bucket_arn}/{capture_prefix}/*",
                *(_object_arn(partition, u) for u in baseline_uris),
            ],
        },
        {
            "Sid": "ListArtifacts",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
        {
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{output_prefix}/*",
        },
        {
            "Sid": "UseStackKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": kms_key_arn,
        },
        {
            "Sid": "WriteJobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": (
                f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/ProcessingJobs:*"
            ),
        },
        {
            "Sid": "PublishDriftMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True)
class DriftMonitorArgs:
    """Inputs of :class:`DriftMonitor`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (its output: the job waits for the endpoint)."""
    capture_prefix: str
    """Key prefix of the endpoint's captured data in the artifacts bucket."""
    artifacts_bucket: pulumi.Input[str]
    """Bucket of captured data, baselines (bare keys) and reports."""
    artifacts_bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts reports and the job's volume."""
    topic_arn: pulumi.Input[str]
    """SNS topic the drift alarm notifies."""
    baseline_statistics_uri: str
    """``s3://`` URI or key in the artifacts bucket of statistics.json."""
    baseline_constraints_uri: str
    """``s3://`` URI or key in the artifacts bucket of constraints.json."""
    instance_type: str = "ml.m5.large"
    """Job instance type. Default ml.m5.large."""
    volume_size_gb: int = 20
    """Job volume, GB. Default 20."""
    max_runtime_seconds: int = 1800
    """Job time limit, seconds (at most 3600 for an hourly schedule). Default 1800."""
    watched_features: Sequence[str] = ()
    """Features whose drift metric the alarm watches; none skips the alarm. Default none."""
    drift_threshold: float = 0.1
    """Baseline distance that fires the alarm. Default 0.1."""
    alarm_name: str = "data-drift"
    """Name of the drift alarm. Default data-drift."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets for the job (network hook). Default none."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups for the job, with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class DriftMonitor(pulumi.ComponentResource):
    """Data-quality job definition, hourly schedule and drift alarm.

    Outputs: ``job_definition_name``, ``schedule_name``, ``reports_uri``.
    """

    def __init__(
        self, name: str, args: DriftMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:drift:DriftMonitor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke_opts)
        region = aws.get_region_output(opts=invoke_opts)
        partition = aws.get_partition_output(opts=invoke_opts)
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=ANALYZER_REPOSITORY, image_tag=ANALYZER_TAG, opts=invoke_opts
        )
        output_prefix = pulumi.Output.from_input(args.endpoint_name).apply(
            lambda endpoint: f"{MONITORING_PREFIX}/{endpoint}/data-quality"
        )
        bucket = pulumi.Output.from_input(args.artifacts_bucket)
        statistics = s3_uri(bucket, args.baseline_statistics_uri)
        constraints = s3_uri(bucket, args.baseline_constraints_uri)
        self.reports_uri = pulumi.Output.concat("s3://", bucket, "/", output_prefix)

        self.role = aws.iam.Role(
            f"{name}-role",
            description="SageMaker Model Monitor data-quality jobs",
            assume_role_policy=identity.account_id.apply(
                lambda account: service_trust_policy("sagemaker.amazonaws.com", account)
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                partition.partition,
                region.region,
                identity.account_id,
                args.artifacts_bucket_arn,
                output_prefix,
                statistics,
                constraints,
                args.kms_key_arn,
            ).apply(
                lambda p: monitoring_role_policy(
                    partition=p[0],
                    region=p[1],
                    account=p[2],
                    bucket_arn=p[3],
                    capture_prefix=args.capture_prefix,
                    output_prefix=p[4],
                    baseline_uris=[p[5], p[6]],
                    kms_key_arn=p[7],
                )
            ),
            opts=child,
        )

        network: dict[str, Any] = {
            "enable_inter_container_traffic_encryption": True,
            # The analyzer publishes its CloudWatch metrics itself, so it needs the network.
            "enable_network_isolation": False,
        }
        if args.subnet_ids:
            network["vpc_config"] = {
                "subnets": list(args.subnet_ids),
                "security_group_ids": list(args.security_group_ids),
            }
        self.job_definition = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-job",
            role_arn=self.role.arn,
            data_quality_app_specification={
                "image_uri": image.registry_path,
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            data_quality_baseline_config={
                "statistics_resource": {"s3_uri": statistics},
                "constraints_resource": {"s3_uri": constraints},
            },
            data_quality_job_input={
                "endpoint_input": {
                    "endpoint_name": args.endpoint_name,
                    "local_path": "/opt/ml/processing/input/endpoint",
                    "s3_input_mode": "File",
                    "s3_data_distribution_type": "FullyReplicated",
                }
            },
            data_quality_job_output_config={
                "kms_key_id": args.kms_key_arn,
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": self.reports_uri,
                        "local_path": "/opt/ml/processing/output",
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources={
                "cluster_config": {
                    "instance_count": 1,
                    "instance_type": args.instance_type,
                    "volume_size_in_gb": args.volume_size_gb,
                    "volume_kms_key_id": args.kms_key_arn,
                }
            },
            network_config=network,
            stopping_condition={"max_runtime_in_seconds": args.max_runtime_seconds},
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.schedule = aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            monitoring_schedule_config={
                "monitoring_job_definition_name": self.job_definition.name,
                "monitoring_type": "DataQuality",
                "schedule_config": {"schedule_expression": HOURLY},
            },
            tags=args.tags,
            opts=child,
        )
        self.alarm: aws.cloudwatch.MetricAlarm | None = None
        if args.watched_features:
            self.alarm = declare_alarm(
                f"{name}-alarm",
                args.alarm_name,
                drift_alarm(args.watched_features, args.drift_threshold),
                {"EndpointName": args.endpoint_name, "ScheduleName": self.schedule.name},
                args.topic_arn,
                role="operational",
                tags=args.tags,
                opts=child,
            )
        self.register_outputs(
            {
                "job_definition_name": self.job_definition.name,
                "schedule_name": self.schedule.name,
                "reports_uri": self.reports_uri,
            }
        )
