"""Passing and violating inputs for every resource rule: camelCase, as the engine sends them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-0000-4000-8000-000000000000"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ENDPOINT_CONFIG = {
    "kmsKeyArn": KEY,
    "productionVariants": [
        {"variantName": "AllTraffic", "instanceType": "ml.c5.xlarge", "initialInstanceCount": 3.0}
    ],
    "dataCaptureConfig": {
        "enableCapture": True,
        "initialSamplingPercentage": 20.0,
        "destinationS3Uri": "s3://bucket/capture",
        "kmsKeyId": KEY,
    },
}
DATA_QUALITY_JOB = {
    "dataQualityJobOutputConfig": {"kmsKeyId": KEY, "monitoringOutputs": {"s3Output": {}}},
    "jobResources": {"clusterConfig": {"volumeKmsKeyId": KEY, "instanceCount": 1.0}},
    "networkConfig": {"enableInterContainerTrafficEncryption": True},
}
EKS_CLUSTER = {
    "version": "1.33",
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
}
ECR_REPOSITORY = {
    "imageTagMutability": "IMMUTABLE",
    "imageScanningConfiguration": {"scanOnPush": True},
    "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}],
}
LAUNCH_TEMPLATE = {
    "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}],
}


PIPELINE_DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "KmsKeyId", "Type": "String", "DefaultValue": KEY}],
    "Steps": [
        {
            "Name": "Transform",
            "Type": "Transform",
            "Arguments": {
                "TransformOutput": {"KmsKeyId": {"Get": "Parameters.KmsKeyId"}},
                "TransformResources": {"VolumeKmsKeyId": KEY},
            },
        }
    ],
}
QUALITY_JOB = {
    "modelQualityJobOutputConfig": {"kmsKeyId": KEY, "monitoringOutputs": []},
    "jobResources": {"clusterConfig": {"volumeKmsKeyId": KEY, "instanceCount": 1.0}},
    "networkConfig": {"enableInterContainerTrafficEncryption": True},
}
START_PIPELINE = {
    "Sid": "StartThisPipeline",
    "Effect": "Allow",
    "Action": "sagemaker:StartPipelineExecution",
    "Resource": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-classifier-batch",
}


def _unkeyed_transform(definition: dict[str, Any]) -> None:
    # The parameter exists but the program never filled it in.
    definition["Parameters"][0]["DefaultValue"] = ""


def _with(base: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    changed = copy.deepcopy(base)
    edit(changed)
    return changed


RESOURCE_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # rule name: (type token, passing inputs, violating inputs)
    "sagemaker-endpoint-config-kms": (
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ENDPOINT_CONFIG,
        _with(ENDPOINT_CONFIG, lambda i: i.pop("kmsKeyArn")),
    ),
    "sagemaker-data-capture-kms": (
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ENDPOINT_CONFIG,
        _with(ENDPOINT_CONFIG, lambda i: i["dataCaptureConfig"].pop("kmsKeyId")),
    ),
    "sagemaker-model-network-isolation": (
        "aws:sagemaker/model:Model",
        {"enableNetworkIsolation": True, "primaryContainer": {"image": "repo@sha256:ab"}},
        {"primaryContainer": {"image": "repo@sha256:ab"}},
    ),
    "model-monitor-output-kms": (
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        DATA_QUALITY_JOB,
        _with(DATA_QUALITY_JOB, lambda i: i["dataQualityJobOutputConfig"].pop("kmsKeyId")),
    ),
    "model-monitor-volume-kms": (
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        DATA_QUALITY_JOB,
        _with(DATA_QUALITY_JOB, lambda i: i["jobResources"]["clusterConfig"].clear()),
    ),
    "model-monitor-traffic-encryption": (
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        DATA_QUALITY_JOB,
        _with(DATA_QUALITY_JOB, lambda i: i.pop("networkConfig")),
    ),
    "ecr-immutable-tags": (
        "aws:ecr/repository:Repository",
        ECR_REPOSITORY,
        _with(ECR_REPOSITORY, lambda i: i.update(imageTagMutability="MUTABLE")),
    ),
    "ecr-scan-on-push": (
        "aws:ecr/repository:Repository",
        ECR_REPOSITORY,
        _with(ECR_REPOSITORY, lambda i: i.pop("imageScanningConfiguration")),
    ),
    "ecr-kms-encryption": (
        "aws:ecr/repository:Repository",
        ECR_REPOSITORY,
        _with(
            ECR_REPOSITORY,
            lambda i: i.update(encryptionConfigurations=[{"encryptionType": "AES256"}]),
        ),
    ),
    "ecr-no-public-policy": (
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        {
            "policy": _policy(
                {
                    "Sid": "Pull",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": ["ecr:BatchGetImage"],
                }
            )
        },
        {
            "policy": _policy(
                {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}
            )
        },
    ),
    "eks-control-plane-logging": (
        "aws:eks/cluster:Cluster",
        EKS_CLUSTER,
        _with(EKS_CLUSTER, lambda i: i.update(enabledClusterLogTypes=["api"])),
    ),
    "eks-private-endpoint": (
        "aws:eks/cluster:Cluster",
        EKS_CLUSTER,
        _with(EKS_CLUSTER, lambda i: i["vpcConfig"].pop("endpointPublicAccess")),
    ),
    "eks-public-endpoint-cidrs": (
        "aws:eks/cluster:Cluster",
        _with(
            EKS_CLUSTER,
            lambda i: i["vpcConfig"].update(
                endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]
            ),
        ),
        _with(
            EKS_CLUSTER,
            lambda i: i["vpcConfig"].update(
                endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]
            ),
        ),
    ),
    "eks-secrets-encryption": (
        "aws:eks/cluster:Cluster",
        EKS_CLUSTER,
        _with(EKS_CLUSTER, lambda i: i.pop("encryptionConfig")),
    ),
    "eks-supported-version": (
        "aws:eks/cluster:Cluster",
        EKS_CLUSTER,
        _with(EKS_CLUSTER, lambda i: i.update(version="1.24")),
    ),
    "sns-topic-kms": ("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY}, {"displayName": "alerts"}),
    "cloudwatch-alarm-actions-enabled": (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"actionsEnabled": True, "alarmActions": ["arn:aws:sns:us-east-1:1:t"]},
        {"actionsEnabled": False, "alarmActions": ["arn:aws:sns:us-east-1:1:t"]},
    ),
    "cloudwatch-alarm-notifies": (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"alarmActions": ["arn:aws:sns:us-east-1:1:t"]},
        {"alarmActions": []},
    ),
    "log-group-retention": (
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365.0, "kmsKeyId": KEY},
        {"kmsKeyId": KEY},
    ),
    "log-group-kms": (
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365.0, "kmsKeyId": KEY},
        {"retentionInDays": 365.0},
    ),
    "kms-key-rotation": (
        "aws:kms/key:Key",
        {"enableKeyRotation": True},
        {"enableKeyRotation": False},
    ),
    "s3-public-access-blocked": (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {
            "bucket": "b",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        {"bucket": "b", "blockPublicAcls": True, "blockPublicPolicy": True},
    ),
    "iam-no-admin-managed-policy": (
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"},
    ),
    "iam-no-wildcard-actions": (
        "aws:iam/rolePolicy:RolePolicy",
        {
            "role": "r",
            "policy": _policy(
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}
            ),
        },
        {"role": "r", "policy": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})},
    ),
    "launch-template-imdsv2": (
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        _with(LAUNCH_TEMPLATE, lambda i: i["metadataOptions"].update(httpTokens="optional")),
    ),
    "launch-template-ebs-encrypted": (
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        _with(LAUNCH_TEMPLATE, lambda i: i["blockDeviceMappings"][0]["ebs"].pop("encrypted")),
    ),
    "sagemaker-pipeline-steps-encrypted": (
        "aws:sagemaker/pipeline:Pipeline",
        {"pipelineDefinition": json.dumps(PIPELINE_DEFINITION)},
        {"pipelineDefinition": json.dumps(_with(PIPELINE_DEFINITION, _unkeyed_transform))},
    ),
    "model-monitor-job-encrypted": (
        "aws-native:sagemaker:ModelQualityJobDefinition",
        QUALITY_JOB,
        _with(QUALITY_JOB, lambda i: i["modelQualityJobOutputConfig"].pop("kmsKeyId")),
    ),
    "scheduler-schedule-kms": (
        "aws:scheduler/schedule:Schedule",
        {"kmsKeyArn": KEY, "target": {"arn": START_PIPELINE["Resource"], "roleArn": "r"}},
        {"target": {"arn": START_PIPELINE["Resource"], "roleArn": "r"}},
    ),
    "pipeline-start-scoped": (
        "aws:iam/rolePolicy:RolePolicy",
        {"role": "r", "policy": _policy(START_PIPELINE)},
        {"role": "r", "policy": _policy(dict(START_PIPELINE, Resource="*"))},
    ),
}

GITHUB_OIDC = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
GITHUB_TRUST: dict[str, Any] = {
    "Effect": "Allow",
    "Principal": {"Federated": GITHUB_OIDC},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/mlstack:environment:production",
        }
    },
}
SERVICE_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
SCOPED_POLICY = _policy(
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/models/*"}
)
TOPIC_POLICY = _policy(
    {
        "Sid": "CloudWatchAlarms",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": "arn:aws:sns:us-east-1:123456789012:alerts",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
)
ACCESS_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "iam-trust-no-wildcard-principal": (
        "aws:iam/role:Role",
        {"assumeRolePolicy": _policy(SERVICE_TRUST)},
        {"assumeRolePolicy": _policy(dict(SERVICE_TRUST, Principal={"AWS": "*"}))},
    ),
    "iam-web-identity-trust-scoped": (
        "aws:iam/role:Role",
        {"assumeRolePolicy": _policy(GITHUB_TRUST)},
        {
            "assumeRolePolicy": _policy(
                dict(
                    GITHUB_TRUST,
                    Condition={
                        "StringEquals": {
                            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                        }
                    },
                )
            )
        },
    ),
    "iam-no-not-action": (
        "aws:iam/rolePolicy:RolePolicy",
        {"role": "r", "policy": SCOPED_POLICY},
        {
            "role": "r",
            "policy": _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        },
    ),
    "iam-no-service-wildcard-on-all-resources": (
        "aws:iam/policy:Policy",
        {"policy": SCOPED_POLICY},
        {"policy": _policy({"Effect": "Allow", "Action": ["kms:*"], "Resource": "*"})},
    ),
    "resource-policy-not-public": (
        "aws:sns/topicPolicy:TopicPolicy",
        {"arn": "arn:aws:sns:us-east-1:123456789012:alerts", "policy": TOPIC_POLICY},
        {
            "arn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "policy": _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
            ),
        },
    ),
    "security-group-no-open-ingress": (
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "ingress": [
                {
                    "fromPort": 443,
                    "toPort": 443,
                    "protocol": "tcp",
                    "cidrBlocks": ["10.40.0.0/16"],
                    "description": "HTTPS from the VPC",
                }
            ]
        },
        {
            "ingress": [
                {
                    "fromPort": 443,
                    "toPort": 443,
                    "protocol": "tcp",
                    "cidrBlocks": ["0.0.0.0/0"],
                    "description": "HTTPS from anywhere",
                }
            ]
        },
    ),
    "imds-hop-limit-one": (
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1.0}},
        {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2.0}},
    ),
    "k8s-service-not-exposed": (
        "kubernetes:core/v1:Service",
        {"spec": {"type": "ClusterIP", "ports": [{"port": 80.0}]}},
        {"spec": {"type": "LoadBalancer", "ports": [{"port": 80.0}]}},
    ),
}
ROUTERS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}
SERVER_NETWORK_POLICY: dict[str, Any] = {
    "metadata": {"name": "model-server", "namespace": "serving"},
    "spec": {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-server"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [ROUTERS], "ports": [{"protocol": "TCP", "port": 8080.0}]}],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
                "ports": [{"protocol": "TCP", "port": 443.0}],
            }
        ],
    },
}
INGRESS: dict[str, Any] = {
    "metadata": {"name": "model-server", "namespace": "serving"},
    "spec": {
        "rules": [
            {
                "http": {
                    "paths": [
                        {
                            "path": "/invocations",
                            "pathType": "Exact",
                            "backend": {
                                "service": {"name": "model-server", "port": {"number": 8080.0}}
                            },
                        }
                    ]
                }
            }
        ]
    },
}
ACCESS_CASES.update(
    {
        "k8s-network-policy-scoped": (
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            SERVER_NETWORK_POLICY,
            # the attack of issue 12: port 8080 open to every pod of the cluster
            _with(SERVER_NETWORK_POLICY, lambda i: i["spec"]["ingress"][0].pop("from")),
        ),
        "k8s-ingress-metrics-private": (
            "kubernetes:networking.k8s.io/v1:Ingress",
            INGRESS,
            _with(
                INGRESS,
                lambda i: i["spec"]["rules"][0]["http"]["paths"][0].update(
                    path="/", pathType="Prefix"
                ),
            ),
        ),
    }
)
RESOURCE_CASES.update(ACCESS_CASES)


HARDENED_CONTAINER: dict[str, Any] = {
    "name": "model-server",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/serving@sha256:" + "a" * 64,
    "livenessProbe": {"httpGet": {"path": "/ping", "port": 8080.0}},
    "readinessProbe": {"httpGet": {"path": "/ping", "port": 8080.0}},
    "resources": {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    },
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001.0,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def rollout(container: dict[str, Any], automount: bool = False) -> dict[str, Any]:
    """An Argo Rollout's inputs around one container."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "serving", "namespace": "serving"},
        "spec": {
            "template": {
                "spec": {"automountServiceAccountToken": automount, "containers": [container]}
            }
        },
    }


def _container(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    return rollout(_with(HARDENED_CONTAINER, edit))


def _pod(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    inputs = rollout(HARDENED_CONTAINER)
    edit(inputs["spec"]["template"]["spec"])
    return inputs


ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
KUBERNETES_CASES: dict[str, dict[str, Any]] = {
    # rule name: violating Rollout inputs (the hardened rollout passes every rule)
    "k8s-liveness-probe": _container(lambda c: c.pop("livenessProbe")),
    "k8s-readiness-probe": _container(lambda c: c.pop("readinessProbe")),
    "k8s-cpu-requests": _container(lambda c: c["resources"]["requests"].pop("cpu")),
    "k8s-cpu-limits": _container(lambda c: c["resources"]["limits"].pop("cpu")),
    "k8s-memory-requests": _container(lambda c: c["resources"]["requests"].pop("memory")),
    "k8s-memory-limits": _container(lambda c: c["resources"]["limits"].pop("memory")),
    "k8s-no-privilege-escalation": _container(
        lambda c: c["securityContext"].pop("allowPrivilegeEscalation")
    ),
    "k8s-read-only-root-filesystem": _container(
        lambda c: c["securityContext"].update(readOnlyRootFilesystem=False)
    ),
    "k8s-non-root": _container(
        lambda c: [c["securityContext"].pop(k) for k in ("runAsNonRoot", "runAsUser")]
    ),
    "k8s-drop-net-raw": _container(lambda c: c["securityContext"].pop("capabilities")),
    "k8s-seccomp-runtime-default": _container(lambda c: c["securityContext"].pop("seccompProfile")),
    "k8s-drop-all-capabilities": _container(
        lambda c: c["securityContext"]["capabilities"].update(drop=["NET_RAW"])
    ),
    "k8s-no-service-account-token": rollout(HARDENED_CONTAINER, automount=True),
    "k8s-high-uid": _container(lambda c: c["securityContext"].update(runAsUser=1000.0)),
    "k8s-image-digest": _container(lambda c: c.update(image="serving:1.2.3")),
    "k8s-no-added-capabilities": _container(
        lambda c: c["securityContext"]["capabilities"].update(add=["SYS_ADMIN"])
    ),
}
POD_LEVEL_CASES: dict[str, dict[str, Any]] = {
    # rule name: violating Rollout inputs whose problem is in the pod spec, not a container
    "k8s-no-host-namespaces": _pod(lambda spec: spec.update(hostNetwork=True, hostPID=True)),
    "k8s-no-host-path": _pod(
        lambda spec: spec.update(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}])
    ),
}
FETCH_MODEL: dict[str, Any] = {
    **HARDENED_CONTAINER,
    "name": "fetch-model",
    "command": ["aws"],
    "args": ["s3", "cp", "s3://artifacts/models/churn/model.tar.gz", "/model-archive/m.tar.gz"],
}
UNPACK_MODEL: dict[str, Any] = {
    **HARDENED_CONTAINER,
    "name": "unpack-model",
    "command": ["python3", "-c", "...", "/model-archive/m.tar.gz", "/opt/ml/model"],
    "env": [{"name": "MODEL_ARTIFACT_SHA256", "value": "c" * 64}],
}
UNPINNED_UNPACK = {k: v for k, v in UNPACK_MODEL.items() if k != "env"}
PINNED_BY_VERSION = {
    **FETCH_MODEL,
    "args": [
        "s3api", "get-object", "--bucket", "artifacts", "--key", "models/churn/model.tar.gz",
        "--version-id", "3HL4kqtJlcpXroDTDmJ", "/model-archive/m.tar.gz",
    ],
}  # fmt: skip


def with_init(*init: dict[str, Any]) -> dict[str, Any]:
    """The hardened rollout with ``init`` containers before the server."""
    return _pod(lambda spec: spec.update(initContainers=[copy.deepcopy(c) for c in init]))


POD_LEVEL_CASES["k8s-model-artifact-pinned"] = with_init(FETCH_MODEL, UNPINNED_UNPACK)
KUBERNETES_CASES.update(POD_LEVEL_CASES)
