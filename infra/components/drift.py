"""Drift detection: a Model Monitor data-quality job definition on the endpoint's captured
data, an hourly monitoring schedule, and an alarm on the watched features' baseline drift.

The analyzer image is SageMaker's own ``sagemaker-model-monitor-analyzer``, found with the
provider's prebuilt-image lookup for the stack's region (never hard-coded). Reports land in
``s3://<artifacts>/monitoring/<endpoint>/data-quality`` encrypted with the stack's key; the
job's volume is encrypted with it too, and traffic between job containers is encrypted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.alarms import declare_alarm, drift_alarm
from infra.components.errors import ResourceError
from infra.components.iam import policy_document, role_with_inline_policy, service_trust_policy
from infra.components.interpolation import concat
from infra.components.network import vpc_config
from infra.components.s3 import S3_SCHEME, bucket_and_key, object_arn, s3_uri

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
ANALYZER_TAG = "latest"
HOURLY = "cron(0 * ? * * *)"
"""Model Monitor's hourly schedule expression."""
MONITORING_PREFIX = "monitoring"


def monitoring_role_policy(
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account: pulumi.Input[str],
    bucket: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    capture_prefix: str,
    output_prefix: pulumi.Input[str],
    baselines: Sequence[str],
    kms_key_arn: pulumi.Input[str],
    extra_read_prefixes: Sequence[str] = (),
    metric_namespace: str = "/aws/sagemaker/*",
) -> pulumi.Output[str]:
    """Least privilege for the monitoring job: read captured data, baselines and
    ``extra_read_prefixes`` (ground truth), write reports, use the stack's key, write its
    logs and Model Monitor metrics in ``metric_namespace`` (a pattern; data quality
    publishes under ``/aws/sagemaker/``, model quality and Clarify under ``aws/sagemaker/``)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadCapturedData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                concat(bucket_arn, "/", capture_prefix, "/*"),
                *(object_arn(partition, *bucket_and_key(b, bucket)) for b in baselines),
                *(concat(bucket_arn, "/", p, "/*") for p in extra_read_prefixes),
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
            "Resource": concat(bucket_arn, "/", output_prefix, "/*"),
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
            "Resource": concat(
                "arn:",
                partition,
                ":logs:",
                region,
                ":",
                account,
                ":log-group:/aws/sagemaker/ProcessingJobs:*",
            ),
        },
        {
            "Sid": "PublishDriftMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": metric_namespace}},
        },
    ]
    return policy_document(statements)


@dataclass(frozen=True)
class DriftMonitorArgs:
    """Inputs of :class:`DriftMonitor`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (its output: the job waits for the endpoint)."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
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
    instance_type: str
    """Job instance type, e.g. ``ml.m5.large``."""
    volume_size_gb: int
    """Job volume, GB."""
    max_runtime_seconds: int
    """Job time limit, seconds (at most 3600 for an hourly schedule)."""
    watched_features: Sequence[str]
    """Features whose drift metric the alarm watches; empty skips the alarm."""
    drift_threshold: float
    """Baseline distance that fires the alarm (0-1)."""
    alarm_name: str
    """Name of the drift alarm."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets for the job (network hook). Default none."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups for the job, with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class DriftMonitor(pulumi.ComponentResource):
    """Data-quality job definition, hourly schedule and drift alarm.

    Raises :class:`ResourceError` for subnets without security groups (or the other
    way round).

    Outputs: ``job_definition_name``, ``schedule_name``, ``reports_uri``.
    """

    def __init__(
        self, name: str, args: DriftMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:drift:DriftMonitor", name, None, opts)
        if bool(args.subnet_ids) != bool(args.security_group_ids):
            raise ResourceError(
                "DriftMonitorArgs: subnet_ids and security_group_ids go together", self
            )
        child = pulumi.ResourceOptions(parent=self)
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke_opts).account_id
        region = aws.get_region_output(opts=invoke_opts).region
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=ANALYZER_REPOSITORY, image_tag=ANALYZER_TAG, opts=invoke_opts
        )
        output_prefix = pulumi.Output.from_input(args.endpoint_name).apply(
            lambda endpoint: f"{MONITORING_PREFIX}/{endpoint}/data-quality"
        )
        bucket = pulumi.Output.from_input(args.artifacts_bucket)
        statistics = s3_uri(bucket, args.baseline_statistics_uri)
        constraints = s3_uri(bucket, args.baseline_constraints_uri)
        self.reports_uri = concat(S3_SCHEME, bucket, "/", output_prefix)

        self.role, role_policy = self._role(name, args, account, region, output_prefix)

        self.job_definition = self._job_definition(
            name, args, image.registry_path, statistics, constraints, role_policy
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

    def _role(
        self,
        name: str,
        args: DriftMonitorArgs,
        account: pulumi.Output[str],
        region: pulumi.Output[str],
        output_prefix: pulumi.Output[str],
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The job's least-privilege role."""
        declared = role_with_inline_policy(
            f"{name}-role",
            policy_name=f"{name}-role-policy",
            description="SageMaker Model Monitor data-quality jobs",
            trust_policy=service_trust_policy("sagemaker.amazonaws.com", account),
            policy=monitoring_role_policy(
                partition=args.partition,
                region=region,
                account=account,
                bucket=args.artifacts_bucket,
                bucket_arn=args.artifacts_bucket_arn,
                capture_prefix=args.capture_prefix,
                output_prefix=output_prefix,
                baselines=[args.baseline_statistics_uri, args.baseline_constraints_uri],
                kms_key_arn=args.kms_key_arn,
            ),
            max_session_duration_seconds=3600,
            tags=args.tags,
            parent=self,
        )
        return declared.role, declared.policy

    def _job_definition(
        self,
        name: str,
        args: DriftMonitorArgs,
        image_uri: pulumi.Input[str],
        statistics: pulumi.Output[str],
        constraints: pulumi.Output[str],
        role_policy: aws.iam.RolePolicy,
    ) -> aws.sagemaker.DataQualityJobDefinition:
        """The data-quality job: baseline, endpoint input, encrypted output and volume."""
        network: dict[str, Any] = {
            "enable_inter_container_traffic_encryption": True,
            # The analyzer publishes its CloudWatch metrics itself, so it needs the network.
            "enable_network_isolation": False,
        }
        vpc = vpc_config(args.subnet_ids, args.security_group_ids)
        if vpc is not None:
            network["vpc_config"] = vpc
        return aws.sagemaker.DataQualityJobDefinition(
            f"{name}-job",
            role_arn=self.role.arn,
            data_quality_app_specification={
                "image_uri": image_uri,
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
