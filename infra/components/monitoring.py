"""Monitoring plumbing: the stack's alert topic, the log groups the kit owns, the dashboard.

:class:`Monitoring` is declared before the endpoint: its SNS topic (encrypted with the
stack's KMS key, whose policy lets CloudWatch alarms use it) receives every alarm's ALARM
and OK notifications, and its log group ``/aws/sagemaker/Endpoints/<endpoint>`` exists before
SageMaker would create one without retention or encryption.

:class:`Dashboard` is declared last: one CloudWatch dashboard per stack with invocations,
latency percentiles, errors, instance count and utilisation per variant, and the state of
every alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.alarms import INSTANCE_NAMESPACE, SAGEMAKER_NAMESPACE
from infra.components.errors import ResourceError
from infra.components.iam import account_root
from infra.components.interpolation import json_document


def endpoint_log_group_name(endpoint_name: str) -> str:
    """Where SageMaker writes an endpoint's container logs."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


def topic_policy(
    topic_arn: pulumi.Input[str],
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    eventbridge_publishes: bool = False,
) -> pulumi.Output[str]:
    """Only this account's CloudWatch alarms (and, with ``eventbridge_publishes``, its
    EventBridge rules) and principals publish; TLS only."""
    publishers = ["cloudwatch.amazonaws.com"]
    if eventbridge_publishes:
        publishers.append("events.amazonaws.com")
    return json_document(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": publishers[0] if len(publishers) == 1 else publishers},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
                {
                    "Sid": "AccountManagesTopic",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_root(partition, account_id)},
                    "Action": [
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic",
                        "sns:Publish",
                    ],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    topic_display_name: str
    """Display name of the alert topic (the sender of e-mails), e.g. ``mlstack production
    alerts``."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    kms_key_arn: pulumi.Input[str]
    """The stack's KMS key: encrypts the topic and the log groups."""
    endpoint_names: Sequence[str]
    """Endpoints whose log group the kit owns (may be empty)."""
    email_subscriptions: Sequence[str]
    """Email addresses notified by every alarm (may be empty)."""
    https_subscriptions: Sequence[str]
    """HTTPS endpoints notified by every alarm (may be empty)."""
    log_retention_days: int
    """Retention of the log groups, in days."""
    eventbridge_publishes: bool = False
    """Let this account's EventBridge rules publish (approval notices). Default false."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class Monitoring(pulumi.ComponentResource):
    """Alert topic with subscriptions, and the endpoints' log groups.

    Outputs: ``topic_arn``, ``log_group_names``.
    """

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))

        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            display_name=args.topic_display_name,
            kms_master_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=topic_policy(
                self.topic.arn, identity.account_id, args.partition, args.eventbridge_publishes
            ),
            opts=child,
        )
        for index, address in enumerate(args.email_subscriptions):
            aws.sns.TopicSubscription(
                f"{name}-alerts-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        for index, url in enumerate(args.https_subscriptions):
            aws.sns.TopicSubscription(
                f"{name}-alerts-https-{index}",
                topic=self.topic.arn,
                protocol="https",
                # Webhook URLs usually carry a token: keep them out of state and previews.
                endpoint=pulumi.Output.secret(url),
                endpoint_auto_confirms=False,
                opts=child,
            )

        self.log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-logs-{endpoint}",
                name=endpoint_log_group_name(endpoint),
                retention_in_days=args.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=args.tags,
                opts=child,
            )
            for endpoint in args.endpoint_names
        ]
        self.register_outputs(
            {
                "topic_arn": self.topic.arn,
                "log_group_names": [endpoint_log_group_name(e) for e in args.endpoint_names],
            }
        )


@dataclass(frozen=True)
class DashboardVariant:
    """One variant on the dashboard."""

    endpoint_name: str
    variant_name: str
    instances: bool = True
    """Show instance count and utilisation (false for serverless). Default true."""
    inference_component: str | None = None
    """A model on a shared fleet: its row shows this inference component's metrics (no
    instance graphs: the instances are the fleet's). Default none."""
    model: str | None = None
    """The model this row serves; names the loop alarms' widget. Default none."""
    loop_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """The model's retraining, batch and monitor alarms, shown in a widget right under this
    row (give them on one row of the model). Default none: no widget."""


@dataclass(frozen=True)
class DashboardText:
    """A model whose metrics CloudWatch does not have (served on EKS: they are in
    Prometheus): a row of Markdown saying where they are and how to read them."""

    markdown: str
    model: str | None = None
    """The model this row serves; names the loop alarms' widget. Default none."""
    loop_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """The model's loop alarms, shown right under this row. Default none: no widget."""


TEXT_HEIGHT = 6
"""Grid rows of a text row: a heading, a line, a three-query table and a command."""

LOOP_ALARMS_HEIGHT = 2
"""Grid rows of a model's loop alarms widget: one line of alarm states (a model has at most
three loop alarms)."""


def dashboard_body(
    region: pulumi.Input[str],
    variants: Sequence[DashboardVariant],
    alarm_arns: Sequence[pulumi.Input[str]],
    texts: Sequence[DashboardText] = (),
) -> pulumi.Output[str]:
    """The dashboard JSON: one row of graphs per variant, then one row per text; under a
    model's row the states of its loop alarms when it has any; then the states of
    ``alarm_arns``."""
    widgets: list[dict[str, Any]] = []
    y = 0

    def loop_alarms(model: str, arns: Sequence[pulumi.Input[str]]) -> None:
        nonlocal y
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": y,
                "width": 24,
                "height": LOOP_ALARMS_HEIGHT,
                "properties": {
                    "title": f"{model}: batch and model monitor alarms",
                    "alarms": list(arns),
                    "sortBy": "stateUpdatedTimestamp",
                    "states": [],
                },
            }
        )
        y += LOOP_ALARMS_HEIGHT

    def graph(title: str, metrics: list[list[Any]], x: int, **props: Any) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 8,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "view": "timeSeries",
                "stacked": False,
                "period": 60,
                "metrics": metrics,
                **props,
            },
        }

    for v in variants:
        dims = ["EndpointName", v.endpoint_name, "VariantName", v.variant_name]
        label = f"{v.endpoint_name}/{v.variant_name}"
        if v.inference_component is not None:
            dims = ["InferenceComponentName", v.inference_component]
            label = v.inference_component
        widgets.append(
            graph(
                f"{label}: invocations and errors",
                [
                    [SAGEMAKER_NAMESPACE, "Invocations", *dims, {"stat": "Sum"}],
                    [SAGEMAKER_NAMESPACE, "Invocation4XXErrors", *dims, {"stat": "Sum"}],
                    [SAGEMAKER_NAMESPACE, "Invocation5XXErrors", *dims, {"stat": "Sum"}],
                    [SAGEMAKER_NAMESPACE, "InvocationModelErrors", *dims, {"stat": "Sum"}],
                ],
                0,
            )
        )
        widgets.append(
            graph(
                f"{label}: latency (microseconds)",
                [
                    [SAGEMAKER_NAMESPACE, "ModelLatency", *dims, {"stat": stat}]
                    for stat in ("p50", "p90", "p99")
                ]
                + [[SAGEMAKER_NAMESPACE, "OverheadLatency", *dims, {"stat": "p99"}]],
                8,
            )
        )
        if v.instances and v.inference_component is None:
            widgets.append(
                graph(
                    f"{label}: instances and utilisation",
                    [
                        [INSTANCE_NAMESPACE, "CPUUtilization", *dims, {"stat": "Average"}],
                        [INSTANCE_NAMESPACE, "MemoryUtilization", *dims, {"stat": "Average"}],
                        [INSTANCE_NAMESPACE, "DiskUtilization", *dims, {"stat": "Average"}],
                        [
                            INSTANCE_NAMESPACE,
                            "CPUUtilization",
                            *dims,
                            {"stat": "SampleCount", "label": "instances", "yAxis": "right"},
                        ],
                    ],
                    16,
                )
            )
        y += 6
        if v.loop_alarm_arns:
            loop_alarms(v.model or label, v.loop_alarm_arns)
    for text in texts:
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": 24,
                "height": TEXT_HEIGHT,
                "properties": {"markdown": text.markdown},
            }
        )
        y += TEXT_HEIGHT
        if text.loop_alarm_arns:
            loop_alarms(text.model or "model", text.loop_alarm_arns)
    widgets.append(
        {
            "type": "alarm",
            "x": 0,
            "y": y,
            "width": 24,
            "height": max(3, 2 + len(alarm_arns) // 4),
            "properties": {
                "title": "alarm states",
                "alarms": list(alarm_arns),
                "sortBy": "stateUpdatedTimestamp",
                "states": [],
            },
        }
    )
    return json_document({"widgets": widgets}, sort_keys=True)


@dataclass(frozen=True)
class DashboardArgs:
    """Inputs of :class:`Dashboard`."""

    dashboard_name: str
    """Name of the dashboard, e.g. ``mlstack-production``."""
    variants: Sequence[DashboardVariant]
    """Variants to graph."""
    alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms whose state the dashboard shows (at most 100 per widget). Default none."""
    texts: Sequence[DashboardText] = ()
    """Rows of text after the graphs: models served outside CloudWatch. Default none."""


class Dashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard for the stack. Outputs: ``dashboard_name``.

    Raises :class:`ResourceError` without a variant to graph or a row of text.
    """

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:monitoring:Dashboard", name, None, opts)
        if not args.variants and not args.texts:
            raise ResourceError(
                "DashboardArgs: at least one variant to graph or one row of text", self
            )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        variants = list(args.variants)
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=dashboard_body(
                region.region, variants, args.alarm_arns[:100], args.texts
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name})
