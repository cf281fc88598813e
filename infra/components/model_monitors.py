"""Model-quality and explainability monitoring of an endpoint: Model Monitor job definitions
from pulumi-aws-native (pulumi-aws has none for these two kinds), hourly monitoring
schedules from pulumi-aws, and an alarm on each.

- Model quality merges the endpoint's captured predictions with ground-truth labels from
  ``s3://<artifacts>/<ground truth prefix>`` and publishes the problem type's metrics (auc,
  f1, rmse, ...) to ``aws/sagemaker/Endpoints/model-metrics``; the alarm watches one.
- Explainability runs SageMaker Clarify (KernelSHAP against the baseline in the analysis
  config) and publishes each feature's global SHAP value as ``feature_<name>`` to
  ``aws/sagemaker/Endpoints/explainability-metrics``; the alarm fires when a watched
  feature's value moves more than the configured percent away from its baseline value.

Both jobs run in the stack's private subnets, encrypt their volumes, reports and
inter-container traffic with the stack's key, and share one least-privilege role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from infra.components.alarms import AlarmDefinition, declare_alarm
from infra.components.drift import (
    ANALYZER_REPOSITORY,
    ANALYZER_TAG,
    HOURLY,
    MONITORING_PREFIX,
    monitoring_role_policy,
)
from infra.components.errors import ResourceError
from infra.components.iam import role_with_inline_policy, service_trust_policy
from infra.components.interpolation import concat
from infra.components.network import vpc_config
from infra.components.s3 import S3_SCHEME, s3_uri

CLARIFY_REPOSITORY = "sagemaker-clarify-processing"
CLARIFY_TAG = "1.0"
QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
EXPLAINABILITY_NAMESPACE = "aws/sagemaker/Endpoints/explainability-metrics"


def quality_alarm(metric: str, threshold: float, *, lower_is_better: bool) -> AlarmDefinition:
    """The live ``metric`` past ``threshold`` in an hourly run."""
    return AlarmDefinition(
        key="model-quality",
        description=f"live {metric} {'above' if lower_is_better else 'below'} {threshold:g}",
        threshold=threshold,
        comparison="GreaterThanThreshold" if lower_is_better else "LessThanThreshold",
        period_seconds=3600,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        namespace=QUALITY_NAMESPACE,
        metric_name=metric,
        statistic="Average",
    )


def attribution_alarm(baselines: Mapping[str, float], percent: float) -> AlarmDefinition:
    """Any watched feature's global SHAP value ``percent`` away from its baseline value."""
    queries: list[dict[str, Any]] = [
        {"id": f"f{i}", "metric_name": f"feature_{feature}", "stat": "Average"}
        for i, feature in enumerate(baselines)
    ]
    changes = ", ".join(
        f"ABS(f{i} - {value:g}) / {value:g} * 100" for i, value in enumerate(baselines.values())
    )
    queries.append(
        {"id": "drift", "expression": f"MAX([{changes}])", "label": "attribution change %"}
    )
    return AlarmDefinition(
        key="attribution-drift",
        description=f"global SHAP of {', '.join(baselines)} moved over {percent:g}%",
        threshold=percent,
        comparison="GreaterThanThreshold",
        period_seconds=3600,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        namespace=EXPLAINABILITY_NAMESPACE,
        queries=tuple(queries),
    )


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


@dataclass(frozen=True)
class QualitySettings:
    """What the model-quality job compares (flat values of ``model.qualityMonitoring``)."""

    problem_type: str
    """BinaryClassification, MulticlassClassification or Regression."""
    ground_truth_prefix: str
    """Key prefix of the ground-truth labels."""
    metric: str
    """Metric the alarm watches."""
    threshold: float
    """Alarm threshold."""
    lower_is_better: bool = False
    """True for error metrics (alarm above the threshold). Default false."""
    baseline_constraints_uri: str | None = None
    """constraints.json of a baseline (key or s3:// URI). Default none."""
    inference_attribute: str | None = None
    """Prediction field in the captured output. Default none."""
    probability_attribute: str | None = None
    """Probability field in the captured output. Default none."""
    probability_threshold: float = 0.5
    """Positive-class threshold. Default 0.5."""
    instance_type: str = "ml.m5.large"
    """Job instance type. Default ml.m5.large."""
    volume_size_gb: int = 20
    """Job volume, GB. Default 20."""
    max_runtime_seconds: int = 1800
    """Job time limit, seconds. Default 1800."""


@dataclass(frozen=True)
class ExplainabilitySettings:
    """What the Clarify job computes (flat values of ``model.explainability``)."""

    analysis_config_uri: str
    """Clarify analysis_config.json (key or s3:// URI)."""
    watched_features: Mapping[str, float]
    """Feature name to baseline global SHAP value."""
    drift_percent: float
    """Alarm threshold, percent change."""
    baseline_constraints_uri: str | None = None
    """constraints.json of the SHAP baselining job. Default none."""
    instance_type: str = "ml.m5.xlarge"
    """Job instance type. Default ml.m5.xlarge."""
    volume_size_gb: int = 20
    """Job volume, GB. Default 20."""
    max_runtime_seconds: int = 1800
    """Job time limit, seconds. Default 1800."""


@dataclass(frozen=True)
class ModelMonitorsArgs:
    """Inputs of :class:`ModelMonitors`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (its output: the jobs wait for it)."""
    partition: pulumi.Input[str]
    """AWS partition of the account."""
    capture_prefix: str
    """Key prefix of the endpoint's captured data."""
    artifacts_bucket: pulumi.Input[str]
    """Bucket of captured data, labels, baselines and reports."""
    artifacts_bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts reports and volumes."""
    topic_arn: pulumi.Input[str]
    """Notified by the alarms."""
    alarm_prefix: str
    """Alarm names: ``<prefix>-model-quality``, ``<prefix>-attribution-drift``."""
    quality: QualitySettings | None = None
    """Model-quality monitoring. Default none."""
    explainability: ExplainabilitySettings | None = None
    """Explainability monitoring. Default none."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets of the jobs. Default none."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups, with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class ModelMonitors(pulumi.ComponentResource):
    """Model-quality and explainability job definitions, schedules and alarms.

    Raises :class:`ResourceError` when neither monitor is given, or for subnets without
    security groups.

    Outputs: ``quality_schedule_name``, ``explainability_schedule_name`` (None when off).
    """

    def __init__(
        self, name: str, args: ModelMonitorsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:model_monitors:ModelMonitors", name, None, opts)
        if args.quality is None and args.explainability is None:
            raise ResourceError("ModelMonitorsArgs: give quality, explainability or both", self)
        if bool(args.subnet_ids) != bool(args.security_group_ids):
            raise ResourceError(
                "ModelMonitorsArgs: subnet_ids and security_group_ids go together", self
            )
        self._args = args
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke_opts).account_id
        region = aws.get_region_output(opts=invoke_opts).region
        self._bucket = pulumi.Output.from_input(args.artifacts_bucket)
        prefix = pulumi.Output.from_input(args.endpoint_name).apply(
            lambda endpoint: f"{MONITORING_PREFIX}/{endpoint}"
        )
        reads = [
            u
            for u in (
                args.quality.baseline_constraints_uri if args.quality else None,
                args.explainability.analysis_config_uri if args.explainability else None,
                args.explainability.baseline_constraints_uri if args.explainability else None,
            )
            if u
        ]
        extra_prefixes = [args.quality.ground_truth_prefix] if args.quality else []
        policy = monitoring_role_policy(
            partition=args.partition,
            region=region,
            account=account,
            bucket=args.artifacts_bucket,
            bucket_arn=args.artifacts_bucket_arn,
            capture_prefix=args.capture_prefix,
            output_prefix=prefix,
            baselines=reads,
            kms_key_arn=args.kms_key_arn,
            extra_read_prefixes=extra_prefixes,
            metric_namespace="aws/sagemaker/*",
        )
        declared = role_with_inline_policy(
            f"{name}-role",
            policy_name=f"{name}-role-policy",
            description="SageMaker model-quality and Clarify explainability jobs",
            trust_policy=service_trust_policy("sagemaker.amazonaws.com", account),
            policy=policy,
            max_session_duration_seconds=3600,
            tags=args.tags,
            parent=self,
        )
        self.role, self._role_policy = declared.role, declared.policy
        self.quality_schedule: aws.sagemaker.MonitoringSchedule | None = None
        self.explainability_schedule: aws.sagemaker.MonitoringSchedule | None = None
        self.quality_alarm: aws.cloudwatch.MetricAlarm | None = None
        self.attribution_alarm: aws.cloudwatch.MetricAlarm | None = None
        if args.quality is not None:
            self.quality_schedule = self._quality(name, args.quality, prefix, invoke_opts)
        if args.explainability is not None:
            self.explainability_schedule = self._explainability(
                name, args.explainability, prefix, invoke_opts
            )
        self.register_outputs(
            {
                "quality_schedule_name": (
                    self.quality_schedule.name if self.quality_schedule else None
                ),
                "explainability_schedule_name": (
                    self.explainability_schedule.name if self.explainability_schedule else None
                ),
            }
        )

    def _common(self, report_uri: pulumi.Output[str], settings: Any) -> dict[str, Any]:
        args = self._args
        network: dict[str, Any] = {
            "enable_inter_container_traffic_encryption": True,
            # The jobs publish their CloudWatch metrics themselves, so they need the network.
            "enable_network_isolation": False,
        }
        vpc = vpc_config(args.subnet_ids, args.security_group_ids)
        if vpc is not None:
            network["vpc_config"] = vpc
        return {
            "role_arn": self.role.arn,
            "job_resources": {
                "cluster_config": {
                    "instance_count": 1,
                    "instance_type": settings.instance_type,
                    "volume_size_in_gb": settings.volume_size_gb,
                    "volume_kms_key_id": args.kms_key_arn,
                }
            },
            "network_config": network,
            "stopping_condition": {"max_runtime_in_seconds": settings.max_runtime_seconds},
            "tags": _tags(args.tags),
            "opts": pulumi.ResourceOptions(parent=self, depends_on=[self._role_policy]),
        }

    def _output(self, report_uri: pulumi.Output[str]) -> dict[str, Any]:
        return {
            "kms_key_id": self._args.kms_key_arn,
            "monitoring_outputs": [
                {
                    "s3_output": {
                        "s3_uri": report_uri,
                        "local_path": "/opt/ml/processing/output",
                        "s3_upload_mode": "EndOfJob",
                    }
                }
            ],
        }

    def _schedule(
        self, name: str, job_name: pulumi.Output[str], kind: str
    ) -> aws.sagemaker.MonitoringSchedule:
        return aws.sagemaker.MonitoringSchedule(
            name,
            monitoring_schedule_config={
                "monitoring_job_definition_name": job_name,
                "monitoring_type": kind,
                "schedule_config": {"schedule_expression": HOURLY},
            },
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _quality(
        self,
        name: str,
        settings: QualitySettings,
        prefix: pulumi.Output[str],
        invoke_opts: pulumi.InvokeOutputOptions,
    ) -> aws.sagemaker.MonitoringSchedule:
        args = self._args
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=ANALYZER_REPOSITORY, image_tag=ANALYZER_TAG, opts=invoke_opts
        )
        report_uri = concat(S3_SCHEME, self._bucket, "/", prefix, "/model-quality")
        endpoint_input: dict[str, Any] = {
            "endpoint_name": args.endpoint_name,
            "local_path": "/opt/ml/processing/input/endpoint",
            "s3_input_mode": "File",
            "s3_data_distribution_type": "FullyReplicated",
        }
        if settings.inference_attribute:
            endpoint_input["inference_attribute"] = settings.inference_attribute
        if settings.probability_attribute:
            endpoint_input["probability_attribute"] = settings.probability_attribute
            endpoint_input["probability_threshold_attribute"] = settings.probability_threshold
        baseline = None
        if settings.baseline_constraints_uri:
            baseline = {
                "constraints_resource": {
                    "s3_uri": s3_uri(self._bucket, settings.baseline_constraints_uri)
                }
            }
        job = aws_native.sagemaker.ModelQualityJobDefinition(
            f"{name}-quality-job",
            endpoint_name=args.endpoint_name,
            model_quality_app_specification={
                "image_uri": image.registry_path,
                "problem_type": settings.problem_type,
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            model_quality_baseline_config=baseline,
            model_quality_job_input={
                "endpoint_input": endpoint_input,
                "ground_truth_s3_input": {
                    "s3_uri": concat(S3_SCHEME, self._bucket, "/", settings.ground_truth_prefix)
                },
            },
            model_quality_job_output_config=self._output(report_uri),
            **self._common(report_uri, settings),
        )
        schedule = self._schedule(
            f"{name}-quality-schedule", job.job_definition_name, "ModelQuality"
        )
        self.quality_alarm = declare_alarm(
            f"{name}-quality-alarm",
            f"{args.alarm_prefix}-model-quality",
            quality_alarm(
                settings.metric, settings.threshold, lower_is_better=settings.lower_is_better
            ),
            {"Endpoint": args.endpoint_name, "MonitoringSchedule": schedule.name},
            args.topic_arn,
            role="operational",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return schedule

    def _explainability(
        self,
        name: str,
        settings: ExplainabilitySettings,
        prefix: pulumi.Output[str],
        invoke_opts: pulumi.InvokeOutputOptions,
    ) -> aws.sagemaker.MonitoringSchedule:
        args = self._args
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=CLARIFY_REPOSITORY, image_tag=CLARIFY_TAG, opts=invoke_opts
        )
        report_uri = concat(S3_SCHEME, self._bucket, "/", prefix, "/explainability")
        baseline = None
        if settings.baseline_constraints_uri:
            baseline = {
                "constraints_resource": {
                    "s3_uri": s3_uri(self._bucket, settings.baseline_constraints_uri)
                }
            }
        job = aws_native.sagemaker.ModelExplainabilityJobDefinition(
            f"{name}-explainability-job",
            endpoint_name=args.endpoint_name,
            model_explainability_app_specification={
                "image_uri": image.registry_path,
                "config_uri": s3_uri(self._bucket, settings.analysis_config_uri),
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            model_explainability_baseline_config=baseline,
            model_explainability_job_input={
                "endpoint_input": {
                    "endpoint_name": args.endpoint_name,
                    "local_path": "/opt/ml/processing/input/endpoint",
                    "s3_input_mode": "File",
                    "s3_data_distribution_type": "FullyReplicated",
                }
            },
            model_explainability_job_output_config=self._output(report_uri),
            **self._common(report_uri, settings),
        )
        schedule = self._schedule(
            f"{name}-explainability-schedule", job.job_definition_name, "ModelExplainability"
        )
        self.attribution_alarm = declare_alarm(
            f"{name}-attribution-alarm",
            f"{args.alarm_prefix}-attribution-drift",
            attribution_alarm(settings.watched_features, settings.drift_percent),
            {
                "Endpoint": args.endpoint_name,
                "MonitoringSchedule": schedule.name,
                "ExplainabilityMethod": "KernelShap",
                "Label": "label0",
                "ValueType": "GlobalShapValues",
            },
            args.topic_arn,
            role="operational",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return schedule
