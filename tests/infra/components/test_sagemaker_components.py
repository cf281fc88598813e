"""The SageMaker-side components declared on their own with their Args: network, monitoring,
dashboard, endpoint, alarms, autoscaling and drift."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.alarms import (
    EndpointAlarms,
    EndpointAlarmsArgs,
    operational_alarms,
    rollback_alarm,
)
from infra.components.autoscaling import VariantAutoscaling, VariantAutoscalingArgs
from infra.components.drift import DriftMonitor, DriftMonitorArgs
from infra.components.endpoint import (
    Endpoint,
    EndpointArgs,
    ModelSource,
    ProductionVariant,
    ShadowVariant,
)
from infra.components.errors import ResourceError
from infra.components.monitoring import (
    LOOP_ALARMS_HEIGHT,
    TEXT_HEIGHT,
    Dashboard,
    DashboardArgs,
    DashboardText,
    DashboardVariant,
    Monitoring,
    MonitoringArgs,
)
from infra.components.network import Network, NetworkArgs
from infra.config.eks import NatMode
from infra.config.monitoring import AlarmThresholds
from infra.config.rollout import RollbackAlarm, RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.config.sagemaker import EndpointMode
from infra.rollout import sagemaker_deployment
from tests.infra.components.conftest import Declare

KEY = "arn:aws:kms:us-east-1:123456789012:key/test"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
BUCKET_ARN = "arn:aws:s3:::artifacts"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def document(resource_inputs: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    return json.loads(resource_inputs[key])


# -- network --------------------------------------------------------------------------------


def network_args(**changes: Any) -> NetworkArgs:
    fields: dict[str, Any] = {
        "vpc_name": "network-test",
        "kms_key_arn": KEY,
        "cidr": "10.1.0.0/16",
        "availability_zones": 2,
        "nat": NatMode.NONE,
        "flow_log_retention_days": 30,
    }
    return NetworkArgs(**{**fields, **changes})


def test_network_has_private_subnets_per_zone_and_flow_logs(declare: Declare) -> None:
    declared = declare(lambda: Network("network", network_args()))
    subnets = declared.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if not s.inputs.get("mapPublicIpOnLaunch")]
    assert len(private) == 2
    assert declared.one("aws:ec2/vpc:Vpc").inputs["tags"]["Name"] == "network-test"
    assert declared.of_type("aws:ec2/natGateway:NatGateway") == []
    flow_log = declared.one("aws:ec2/flowLog:FlowLog").inputs
    assert flow_log["trafficType"] == "ALL"
    policy = document(declared.one("aws:iam/rolePolicy:RolePolicy").inputs)
    assert policy["Statement"][0]["Sid"] == "WriteFlowLogs"
    trust = document(declared.one("aws:iam/role:Role").inputs, "assumeRolePolicy")
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"cidr": "10.0.0.0/24"}, "/16 to /20"), ({"availability_zones": 4}, "2 or 3")],
)
def test_network_rejects_ranges_and_zone_counts_it_cannot_cut(
    declare: Declare, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ResourceError, match=message):
        declare(lambda: Network("network", network_args(**changes)))


# -- monitoring and dashboard ----------------------------------------------------------------


def test_monitoring_encrypts_the_topic_and_keeps_it_to_the_account(declare: Declare) -> None:
    args = MonitoringArgs(
        topic_display_name="mlstack test alerts",
        partition="aws-us-gov",
        kms_key_arn=KEY,
        endpoint_names=["churn"],
        email_subscriptions=["oncall@example.com"],
        https_subscriptions=[],
        log_retention_days=30,
    )
    declared = declare(lambda: Monitoring("monitoring", args))
    topic = declared.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == KEY
    assert topic["displayName"] == "mlstack test alerts"
    policy = document(declared.one("aws:sns/topicPolicy:TopicPolicy").inputs)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AccountManagesTopic"]["Principal"]["AWS"].startswith("arn:aws-us-gov:")
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    group = declared.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["name"] == "/aws/sagemaker/Endpoints/churn"
    assert group["retentionInDays"] == 30


def test_dashboard_graphs_each_variant_and_shows_the_alarms(declare: Declare) -> None:
    args = DashboardArgs(
        dashboard_name="mlstack-test",
        variants=[
            DashboardVariant("churn", "AllTraffic"),
            DashboardVariant("churn", "B", instances=False),
        ],
        alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
    )
    declared = declare(lambda: Dashboard("dashboard", args))
    dashboard = declared.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == "mlstack-test"
    widgets = json.loads(dashboard["dashboardBody"])["widgets"]
    # Three graphs for the instance variant, two for the serverless one, then alarm states.
    assert len(widgets) == 6
    assert widgets[-1]["properties"]["alarms"] == [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    ]


def test_dashboard_puts_loop_alarms_under_their_models_row_only(declare: Declare) -> None:
    loop = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-production-batch-failed"]
    args = DashboardArgs(
        dashboard_name="mlstack-test",
        variants=[
            DashboardVariant("churn", "AllTraffic", model="churn", loop_alarm_arns=loop),
            DashboardVariant("ranking", "AllTraffic", model="ranking"),
            DashboardVariant("fleet", "AllTraffic", inference_component="fleet-small"),
        ],
        alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
    )
    declared = declare(lambda: Dashboard("dashboard", args))
    dashboard = declared.one("aws:cloudwatch/dashboard:Dashboard").inputs
    widgets = json.loads(dashboard["dashboardBody"])["widgets"]
    titles = [(w["y"], w["properties"]["title"]) for w in widgets if w["type"] == "alarm"]
    assert titles == [(6, "churn: batch and model monitor alarms"), (20, "alarm states")]
    (churn_loop,) = [w for w in widgets if w["y"] == 6]
    assert churn_loop["properties"]["alarms"] == loop
    rows = sorted({w["y"] for w in widgets if w["type"] == "metric"})
    assert rows == [0, 6 + churn_loop["height"], 14], "ranking's row follows churn's alarms"
    # Widgets tile the grid without overlapping.
    cells = [(w["x"] + dx, w["y"] + dy) for w in widgets
             for dx in range(w["width"]) for dy in range(w["height"])]  # fmt: skip
    assert len(cells) == len(set(cells))


def test_dashboard_rejects_no_variants(declare: Declare) -> None:
    args = DashboardArgs(dashboard_name="mlstack-test", variants=[])
    with pytest.raises(ResourceError, match="at least one variant to graph or one row of text"):
        declare(lambda: Dashboard("dashboard", args))


def test_dashboard_text_rows_follow_the_graphs_with_their_loop_alarms(declare: Declare) -> None:
    loop = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ranking-batch-failed"]
    args = DashboardArgs(
        dashboard_name="mlstack-test",
        variants=[DashboardVariant("churn", "AllTraffic", model="churn")],
        alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
        texts=[
            DashboardText("### ranking on EKS", model="ranking", loop_alarm_arns=loop),
            DashboardText("### churn on EKS", model="churn"),
        ],
    )
    declared = declare(lambda: Dashboard("dashboard", args))
    widgets = json.loads(
        declared.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]
    )["widgets"]
    rows = [(w["type"], w["y"], w["properties"].get("markdown") or w["properties"].get("title"))
            for w in widgets if w["type"] != "metric"]  # fmt: skip
    assert rows == [
        ("text", 6, "### ranking on EKS"),
        ("alarm", 6 + TEXT_HEIGHT, "ranking: batch and model monitor alarms"),
        ("text", 6 + TEXT_HEIGHT + LOOP_ALARMS_HEIGHT, "### churn on EKS"),
        ("alarm", 6 + 2 * TEXT_HEIGHT + LOOP_ALARMS_HEIGHT, "alarm states"),
    ]
    # Text alone makes a dashboard (a stack serving only on EKS).
    only_text = DashboardArgs(dashboard_name="t", variants=[], texts=args.texts[:1])
    assert declare(lambda: Dashboard("text-only", only_text)).one(
        "aws:cloudwatch/dashboard:Dashboard"
    )


# -- endpoint -------------------------------------------------------------------------------


def policy(**fields: Any) -> RolloutPolicy:
    return RolloutPolicy(
        strategy=RolloutStrategy.CANARY,
        step_percent=10,
        rollback_alarms=[RollbackAlarm(metric=RollbackMetric.ERRORS_5XX, threshold=1)],
        **fields,
    )


def endpoint_args(**changes: Any) -> EndpointArgs:
    rollout = policy()
    fields: dict[str, Any] = {
        "endpoint_name": "churn",
        "model_package_group_name": "churn-models",
        "partition": "aws",
        "mode": EndpointMode.PROVISIONED,
        "instance_type": "ml.m5.large",
        "variants": [ProductionVariant("AllTraffic", ModelSource(package_version=3), 1.0, 2)],
        "shadow": None,
        "serverless_memory_size_mb": 2048,
        "serverless_max_concurrency": 5,
        "network_isolation": True,
        "capture_prefix": "capture/churn",
        "capture_sampling_percent": 50,
        "deployment": sagemaker_deployment(rollout),
        "rollback_alarms": [rollback_alarm(a) for a in rollout.rollback_alarms],
        "kms_key_arn": KEY,
        "repository_arn": "arn:aws:ecr:us-east-1:123456789012:repository/mlstack",
        "artifacts_bucket": "artifacts",
        "artifacts_bucket_arn": BUCKET_ARN,
        "topic_arn": TOPIC,
    }
    return EndpointArgs(**{**fields, **changes})


def test_endpoint_declares_isolated_model_encrypted_config_and_rollback(declare: Declare) -> None:
    declared = declare(lambda: Endpoint("sagemaker", endpoint_args()))
    model = declared.one("aws:sagemaker/model:Model").inputs
    assert model["enableNetworkIsolation"] is True
    assert model["primaryContainer"]["modelPackageName"].endswith(":model-package/churn-models/3")
    config = declared.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert config["kmsKeyArn"] == KEY
    assert config["dataCaptureConfig"]["destinationS3Uri"] == "s3://artifacts/capture/churn"
    endpoint = declared.one("aws:sagemaker/endpoint:Endpoint").inputs
    routing = endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY"
    (alarm,) = endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert alarm["alarmName"] == "churn-rollback-errors-5xx"
    role_policy = document(declared.one("aws:iam/rolePolicy:RolePolicy").inputs)
    sids = {s["Sid"] for s in role_policy["Statement"]}
    assert "WriteCapturedData" in sids
    assert "RunInPrivateSubnets" not in sids


def test_endpoint_shadow_variant_copies_a_share_of_requests(declare: Declare) -> None:
    args = endpoint_args(
        shadow=ShadowVariant(package_version=4, sampling_percent=20, instance_count=1)
    )
    declared = declare(lambda: Endpoint("sagemaker", args))
    config = declared.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    (shadow,) = config["shadowProductionVariants"]
    assert shadow["initialVariantWeight"] == 0.2
    assert len(declared.of_type("aws:sagemaker/model:Model")) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subnet_ids": ["subnet-1"]}, "go together"),
        (
            {
                "mode": EndpointMode.SERVERLESS,
                "subnet_ids": ["subnet-1"],
                "security_group_ids": ["sg-1"],
            },
            "serverless",
        ),
        ({"variants": []}, "at least one"),
        (
            {
                "variants": [
                    ProductionVariant(
                        "AllTraffic", ModelSource(package_version=1, image_uri="x"), 1.0, 1
                    )
                ]
            },
            "exactly one",
        ),
    ],
)
def test_endpoint_rejects_invalid_combinations(
    declare: Declare, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ResourceError, match=message):
        declare(lambda: Endpoint("sagemaker", endpoint_args(**changes)))


# -- alarms ---------------------------------------------------------------------------------


def test_alarms_cover_every_variant_and_notify_the_topic(declare: Declare) -> None:
    definitions = operational_alarms(AlarmThresholds(), "ml.m5.large", no_traffic=True)
    args = EndpointAlarmsArgs(
        endpoint_name="churn", variants=["A", "B"], topic_arn=TOPIC, definitions=definitions
    )
    declared = declare(lambda: EndpointAlarms("alarms", args))
    alarms = declared.of_type(ALARM)
    assert len(alarms) == 2 * len(definitions)
    assert all(a.inputs["alarmActions"] == [TOPIC] for a in alarms)
    assert "churn-B-errors-5xx" in {a.inputs["name"] for a in alarms}


@pytest.mark.parametrize(
    ("variants", "repeat", "message"),
    [([], False, "at least one variant"), (["A"], True, "unique")],
)
def test_alarms_reject_invalid_args(
    declare: Declare, variants: list[str], repeat: bool, message: str
) -> None:
    definitions = operational_alarms(AlarmThresholds(), None, no_traffic=False)
    if repeat:
        definitions = [*definitions, definitions[0]]
    args = EndpointAlarmsArgs(
        endpoint_name="churn", variants=variants, topic_arn=TOPIC, definitions=definitions
    )
    with pytest.raises(ResourceError, match=message):
        declare(lambda: EndpointAlarms("alarms", args))


# -- autoscaling ----------------------------------------------------------------------------


def scaling_args(**changes: Any) -> VariantAutoscalingArgs:
    fields: dict[str, Any] = {
        "endpoint_name": "churn",
        "variant_name": "AllTraffic",
        "min_instances": 2,
        "max_instances": 6,
        "target_invocations_per_instance": 250,
        "scale_in_cooldown_seconds": 300,
        "scale_out_cooldown_seconds": 60,
    }
    return VariantAutoscalingArgs(**{**fields, **changes})


def test_autoscaling_tracks_invocations_per_instance(declare: Declare) -> None:
    declared = declare(lambda: VariantAutoscaling("autoscaling", scaling_args()))
    target = declared.one("aws:appautoscaling/target:Target").inputs
    assert target["resourceId"] == "endpoint/churn/variant/AllTraffic"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    tracking = declared.one("aws:appautoscaling/policy:Policy").inputs
    assert tracking["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 250.0


def test_autoscaling_tags_the_scalable_target(declare: Declare) -> None:
    """The target carries the tags it is given (the stack's tag scopes the deploy role on it);
    none by default."""
    tags = {"mlstack:stack": "staging", "owner": "ml-platform"}
    declared = declare(lambda: VariantAutoscaling("autoscaling", scaling_args(tags=tags)))
    assert declared.one("aws:appautoscaling/target:Target").inputs["tags"] == tags
    untagged = declare(lambda: VariantAutoscaling("autoscaling", scaling_args()))
    assert not untagged.one("aws:appautoscaling/target:Target").inputs.get("tags")


def test_autoscaling_rejects_inverted_bounds(declare: Declare) -> None:
    with pytest.raises(ResourceError, match="min_instances"):
        declare(lambda: VariantAutoscaling("autoscaling", scaling_args(min_instances=7)))


# -- drift ----------------------------------------------------------------------------------


def drift_args(**changes: Any) -> DriftMonitorArgs:
    fields: dict[str, Any] = {
        "endpoint_name": "churn",
        "partition": "aws",
        "capture_prefix": "capture/churn",
        "artifacts_bucket": "artifacts",
        "artifacts_bucket_arn": BUCKET_ARN,
        "kms_key_arn": KEY,
        "topic_arn": TOPIC,
        "baseline_statistics_uri": "baselines/statistics.json",
        "baseline_constraints_uri": "s3://elsewhere/constraints.json",
        "instance_type": "ml.m5.large",
        "volume_size_gb": 20,
        "max_runtime_seconds": 1800,
        "watched_features": ["tenure"],
        "drift_threshold": 0.2,
        "alarm_name": "churn-data-drift",
    }
    return DriftMonitorArgs(**{**fields, **changes})


def test_drift_job_reads_baselines_by_key_or_uri_and_encrypts(declare: Declare) -> None:
    declared = declare(lambda: DriftMonitor("drift", drift_args()))
    job = declared.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    baseline = job["dataQualityBaselineConfig"]
    assert baseline["statisticsResource"]["s3Uri"] == "s3://artifacts/baselines/statistics.json"
    assert baseline["constraintsResource"]["s3Uri"] == "s3://elsewhere/constraints.json"
    assert job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == KEY
    role_policy = document(declared.one("aws:iam/rolePolicy:RolePolicy").inputs)
    reads = role_policy["Statement"][0]["Resource"]
    assert "arn:aws:s3:::elsewhere/constraints.json" in reads
    assert declared.one(ALARM).inputs["name"] == "churn-data-drift"


def test_drift_without_watched_features_has_no_alarm(declare: Declare) -> None:
    declared = declare(lambda: DriftMonitor("drift", drift_args(watched_features=[])))
    assert declared.of_type(ALARM) == []


def test_drift_rejects_subnets_without_security_groups(declare: Declare) -> None:
    with pytest.raises(ResourceError, match="go together"):
        declare(lambda: DriftMonitor("drift", drift_args(subnet_ids=["subnet-1"])))
