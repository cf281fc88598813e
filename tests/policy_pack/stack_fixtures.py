"""A small, compliant production stack as policy resources, and edits that break one rule each."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from policy_pack.rules import Resource
from tests.policy_pack.fixtures import ENDPOINT_CONFIG, HARDENED_CONTAINER, KEY, rollout

TLS_ONLY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
)


def _r(type_token: str, name: str, inputs: dict[str, Any], id_: str | None = None) -> Resource:
    return Resource(
        urn=f"urn:pulumi:p::mlstack::{type_token}::{name}",
        type=type_token,
        name=name,
        inputs=inputs,
        id=id_ or name,
    )


def compliant_stack() -> list[Resource]:
    """Every stack rule passes on this list."""
    return [
        _r("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts-1"}, "artifacts-1"),
        _r(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "artifacts-pab",
            {"bucket": "artifacts-1", "blockPublicAcls": True},
        ),
        _r(
            "aws:s3/bucketVersioning:BucketVersioning",
            "artifacts-versioning",
            {"bucket": "artifacts-1", "versioningConfiguration": {"status": "Enabled"}},
        ),
        _r(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "artifacts-sse",
            {
                "bucket": "artifacts-1",
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY,
                        }
                    }
                ],
            },
        ),
        _r(
            "aws:s3/bucketPolicy:BucketPolicy",
            "artifacts-tls",
            {"bucket": "artifacts-1", "policy": TLS_ONLY},
        ),
        _r("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, "vpc-1"),
        _r("aws:ec2/flowLog:FlowLog", "vpc-flow", {"vpcId": "vpc-1", "trafficType": "ALL"}),
        _r("aws:ec2/subnet:Subnet", "private-a", {"availabilityZone": "us-east-1a"}, "subnet-a"),
        _r("aws:ec2/subnet:Subnet", "private-b", {"availabilityZone": "us-east-1b"}, "subnet-b"),
        _r(
            "aws:sagemaker/model:Model",
            "model",
            {
                "name": "model-1",
                "enableNetworkIsolation": True,
                "primaryContainer": {"image": "repo/serving@sha256:" + "b" * 64},
                "vpcConfig": {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg"]},
            },
        ),
        _r(
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "config",
            {**copy.deepcopy(ENDPOINT_CONFIG), "name": "config-1"},
        ),
        _r(
            "aws:sagemaker/endpoint:Endpoint",
            "endpoint",
            {
                "name": "endpoint-1",
                "endpointConfigName": "config-1",
                "deploymentConfig": {
                    "blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}},
                    "autoRollbackConfiguration": {
                        "alarms": [{"alarmName": "rollback-latency"}, {"alarmName": "rollback-5xx"}]
                    },
                },
            },
        ),
        _r("aws:cloudwatch/metricAlarm:MetricAlarm", "latency", {"name": "rollback-latency"}),
        _r("aws:cloudwatch/metricAlarm:MetricAlarm", "errors", {"name": "rollback-5xx"}),
        _r(
            "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
            "drift-job",
            {
                "name": "drift-job-1",
                "dataQualityJobInput": {"endpointInput": {"endpointName": "endpoint-1"}},
            },
        ),
        _r(
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
            "drift-schedule",
            {"monitoringScheduleConfig": {"monitoringJobDefinitionName": "drift-job-1"}},
        ),
        *loop_resources(),
        _r(
            "aws:appautoscaling/target:Target",
            "scaling",
            {"serviceNamespace": "sagemaker", "minCapacity": 3.0, "maxCapacity": 6.0},
        ),
        _r(
            "aws:eks/nodeGroup:NodeGroup",
            "nodes",
            {"subnetIds": ["subnet-a", "subnet-b"], "scalingConfig": {"minSize": 2.0}},
        ),
        _r("kubernetes:argoproj.io/v1alpha1:Rollout", "serving", rollout(HARDENED_CONTAINER)),
        _r(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "serving-default-deny",
            {
                "metadata": {"name": "default-deny", "namespace": "serving"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        ),
        _r(
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "serving-hpa",
            {"spec": {"minReplicas": 2.0, "maxReplicas": 6.0}},
        ),
    ]


PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-retraining"
DRIFT_ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:endpoint-1-data-drift"


def _start_only(pipeline_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sagemaker:StartPipelineExecution",
                    "Resource": pipeline_arn,
                }
            ],
        }
    )


def loop_resources() -> list[Resource]:
    """A retraining pipeline started by a schedule and by the drift alarm's EventBridge rule,
    each as its own role, and a model-quality job with its monitoring schedule."""
    role_arn = "arn:aws:iam::123456789012:role/{}"
    return [
        _r("aws:sagemaker/pipeline:Pipeline", "pipeline", {"pipelineName": "churn-retraining"}),
        _r("aws:iam/role:Role", "schedule-role", {"name": "schedule-role-1"}),
        _r(
            "aws:iam/rolePolicy:RolePolicy",
            "schedule-role-policy",
            {"role": "schedule-role-1", "policy": _start_only(PIPELINE_ARN)},
        ),
        _r(
            "aws:scheduler/schedule:Schedule",
            "schedule",
            {
                "kmsKeyArn": KEY,
                "target": {
                    "arn": PIPELINE_ARN,
                    "roleArn": role_arn.format("schedule-role-1"),
                    "sagemakerPipelineParameters": {"pipelineParameters": []},
                },
            },
        ),
        _r(
            "aws:iam/role:Role",
            "drift-role",
            {
                "name": "drift-role-1",
                "inlinePolicies": [{"name": "start", "policy": _start_only(PIPELINE_ARN)}],
            },
        ),
        _r(
            "aws:cloudwatch/eventRule:EventRule",
            "drift-rule",
            {
                "name": "drift-rule-1",
                "eventPattern": json.dumps(
                    {"source": ["aws.cloudwatch"], "resources": [DRIFT_ALARM]}
                ),
            },
        ),
        _r(
            "aws:cloudwatch/eventTarget:EventTarget",
            "drift-start",
            {
                "rule": "drift-rule-1",
                "arn": PIPELINE_ARN,
                "roleArn": role_arn.format("drift-role-1"),
            },
        ),
        _r(
            "aws-native:sagemaker:ModelQualityJobDefinition",
            "quality-job",
            {"jobDefinitionName": "quality-job-1"},
        ),
        _r(
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
            "quality-schedule",
            {
                "monitoringScheduleConfig": {
                    "monitoringJobDefinitionName": "quality-job-1",
                    "monitoringType": "ModelQuality",
                }
            },
        ),
    ]


Edit = Callable[[list[Resource]], list[Resource]]


def edit(name: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    """Change the inputs of the resource with logical name ``name``."""

    def apply(resources: list[Resource]) -> list[Resource]:
        out = []
        for r in resources:
            if r.name == name:
                inputs = copy.deepcopy(dict(r.inputs))
                change(inputs)
                r = Resource(urn=r.urn, type=r.type, name=r.name, inputs=inputs, id=r.id)
            out.append(r)
        return out

    return apply


def drop(name: str) -> Edit:
    """Remove the resource with logical name ``name``."""
    return lambda resources: [r for r in resources if r.name != name]


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        target = inputs
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


MODEL_VERSION_LABEL = "mlstack.io/model-version"
KIT_LABELS = {"app.kubernetes.io/component": "model-server", "app.kubernetes.io/part-of": "mlstack"}


def serve_versions(resources: list[Resource], sagemaker: int, eks: str | None) -> list[Resource]:
    """SageMaker's model serves package version ``sagemaker``; the kit's Rollout records
    ``eks`` (no version label when None)."""
    labels = dict(KIT_LABELS) if eks is None else {**KIT_LABELS, MODEL_VERSION_LABEL: eks}
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{sagemaker}"
    resources = edit("model", _set(["primaryContainer"], {"modelPackageName": arn}))(resources)
    resources = edit("config", _set(["productionVariants", 0, "modelName"], "model-1"))(resources)
    return edit("serving", _set(["metadata", "labels"], labels))(resources)


MODEL_URI = "s3://artifacts-1/models/m.tar.gz"

STACK_CASES: dict[str, Edit] = {
    # rule name: an edit of the compliant stack that violates it
    "s3-bucket-public-access-block": drop("artifacts-pab"),
    "s3-bucket-versioning": edit(
        "artifacts-versioning", _set(["versioningConfiguration", "status"], "Suspended")
    ),
    "s3-bucket-kms-encryption": edit(
        "artifacts-sse",
        _set(["rules"], [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
    ),
    "s3-bucket-tls-only": drop("artifacts-tls"),
    "vpc-flow-logs": drop("vpc-flow"),
    "production-progressive-rollout": edit(
        "endpoint",
        _set(
            ["deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type"],
            "ALL_AT_ONCE",
        ),
    ),
    "rollback-alarms-exist": drop("errors"),
    "production-data-capture": edit("config", lambda i: i.pop("dataCaptureConfig")),
    "production-min-two-instances": edit(
        "config", _set(["productionVariants"], [{"variantName": "v", "initialInstanceCount": 1.0}])
    ),
    "production-multi-az": edit("nodes", _set(["subnetIds"], ["subnet-a"])),
    "production-image-digest": edit(
        "model", _set(["primaryContainer", "image"], "repo/serving:v3")
    ),
    "drift-monitoring-with-capture": drop("drift-schedule"),
    # the schedule's role may start every pipeline of the account
    "pipeline-triggers-scoped": edit(
        "schedule-role-policy",
        _set(["policy"], _start_only("arn:aws:sagemaker:us-east-1:123456789012:pipeline/*")),
    ),
    # the quality schedule runs a job definition made outside the stack
    "monitoring-schedule-job-declared": edit(
        "quality-schedule",
        _set(["monitoringScheduleConfig", "monitoringJobDefinitionName"], "hand-made-job"),
    ),
    "serving-paths-same-model-version": lambda resources: serve_versions(resources, 5, "3"),
    # the serving pods fetch their model from the stack's bucket, whose policy only asks TLS
    "production-model-artifact-write-protected": edit(
        "serving",
        _set(
            ["spec", "template", "spec", "initContainers"],
            [{"name": "fetch-model", "command": ["aws"], "args": ["s3", "cp", MODEL_URI, "/m"]}],
        ),
    ),
    # a "default deny" that selects only some pods leaves the others open
    "k8s-namespace-default-deny": edit(
        "serving-default-deny",
        _set(["spec", "podSelector"], {"matchLabels": {"app.kubernetes.io/name": "other"}}),
    ),
}
