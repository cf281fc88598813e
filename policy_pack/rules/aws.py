"""Rules over single AWS resources, each mapped to the checkov check it mirrors."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policy_pack.rules.access import allows_anyone, permission_documents
from policy_pack.rules.base import (
    Inputs,
    ResourceRule,
    as_list,
    get,
    is_false,
    is_set,
    is_true,
    is_unknown,
    policy_statements,
    strings,
)
from policy_pack.rules.instance_storage import has_instance_store
from policy_pack.type_tokens import (
    CLOUDWATCH_LOG_GROUP,
    CLOUDWATCH_METRIC_ALARM,
    EC2_LAUNCH_TEMPLATE,
    ECR_REPOSITORY,
    ECR_REPOSITORY_POLICY,
    EKS_CLUSTER,
    IAM_POLICY,
    IAM_POLICY_ATTACHMENT_TYPES,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    KMS_KEY,
    S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,
    SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_MODEL,
    SNS_TOPIC,
)

EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""The five EKS control-plane log types."""
SUPPORTED_EKS_VERSIONS = ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")
"""Kubernetes versions EKS supports (standard or extended support), as checkov CKV_AWS_339."""

# --- SageMaker -------------------------------------------------------------------------------


def _endpoint_config_kms(_: str, inputs: Inputs) -> Iterable[str]:
    variants = as_list(inputs.get("productionVariants"))
    # Serverless variants have no volume; instance-store types are encrypted by the hardware
    # and AWS refuses a volume key for them.
    exempt = [
        v
        for v in variants
        if is_set(get(v, "serverlessConfig")) or has_instance_store(str(get(v, "instanceType")))
    ]
    if variants and len(exempt) == len(variants):
        return
    if not is_set(inputs.get("kmsKeyArn")):
        yield "endpoint configuration has no KMS key for its ML storage volumes: the " + (
            "endpoint component must pass the stack's key (mlstack:registry's KMS key)"
        )


def _data_capture_kms(_: str, inputs: Inputs) -> Iterable[str]:
    capture = inputs.get("dataCaptureConfig")
    if capture is None or is_false(get(capture, "enableCapture")):
        return
    if not is_set(get(capture, "kmsKeyId")):
        yield "captured request/response data is not encrypted with the stack's KMS key: " + (
            "set data_capture_config.kms_key_id"
        )


def _model_network_isolation(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_true(inputs.get("enableNetworkIsolation")):
        yield "the model container can reach the network: set enable_network_isolation=True"


def _monitor_output_kms(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(get(inputs, "dataQualityJobOutputConfig", "kmsKeyId")):
        yield "Model Monitor reports are not KMS-encrypted: set " + (
            "data_quality_job_output_config.kms_key_id"
        )


def _monitor_volume_kms(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(get(inputs, "jobResources", "clusterConfig", "volumeKmsKeyId")):
        yield "Model Monitor volumes are not KMS-encrypted: set " + (
            "job_resources.cluster_config.volume_kms_key_id"
        )


def _monitor_traffic_encryption(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_true(get(inputs, "networkConfig", "enableInterContainerTrafficEncryption")):
        yield "Model Monitor instances talk in clear text: set " + (
            "network_config.enable_inter_container_traffic_encryption=True"
        )


# --- ECR -------------------------------------------------------------------------------------


def _ecr_immutable(_: str, inputs: Inputs) -> Iterable[str]:
    if inputs.get("imageTagMutability") != "IMMUTABLE" and not is_unknown(
        inputs.get("imageTagMutability")
    ):
        yield "ECR image tags are mutable: set image_tag_mutability='IMMUTABLE'"


def _ecr_scan_on_push(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_true(get(inputs, "imageScanningConfiguration", "scanOnPush", default=False)):
        yield "ECR scan on push is off: set image_scanning_configuration.scan_on_push=True"


def _ecr_kms(_: str, inputs: Inputs) -> Iterable[str]:
    configs = as_list(inputs.get("encryptionConfigurations"))
    if not any(get(c, "encryptionType") == "KMS" for c in configs):
        yield "ECR repository is not encrypted with KMS: set " + (
            "encryption_configurations=[{encryption_type: 'KMS', kms_key: <key arn>}]"
        )


def _ecr_not_public(_: str, inputs: Inputs) -> Iterable[str]:
    for statement in policy_statements(inputs.get("policy")):
        if allows_anyone(statement):
            sid = statement.get("Sid") or "a statement"
            yield f"ECR repository policy ({sid}) allows any principal: name the accounts or roles"


# --- EKS -------------------------------------------------------------------------------------


def _eks_logging(_: str, inputs: Inputs) -> Iterable[str]:
    enabled = strings(inputs.get("enabledClusterLogTypes"))
    missing = [t for t in EKS_LOG_TYPES if t not in enabled]
    if missing and not is_unknown(inputs.get("enabledClusterLogTypes")):
        yield f"EKS control-plane logs off for {', '.join(missing)}: " + (
            "set enabled_cluster_log_types to all five types"
        )


def _eks_public_endpoint(_: str, inputs: Inputs) -> Iterable[str]:
    # The API default for endpointPublicAccess is true, so only an explicit false passes.
    if not is_false(get(inputs, "vpcConfig", "endpointPublicAccess", default=True)):
        yield "EKS API endpoint is public: set vpc_config.endpoint_public_access=False"


def _eks_public_cidrs(_: str, inputs: Inputs) -> Iterable[str]:
    vpc = get(inputs, "vpcConfig") or {}
    if is_false(get(vpc, "endpointPublicAccess", default=True)):
        return
    cidrs = strings(get(vpc, "publicAccessCidrs"))
    if not cidrs or "0.0.0.0/0" in cidrs:
        yield "EKS public endpoint is open to 0.0.0.0/0: list the allowed CIDRs " + (
            "in vpc_config.public_access_cidrs"
        )


def _eks_secrets_encryption(_: str, inputs: Inputs) -> Iterable[str]:
    config = inputs.get("encryptionConfig")
    resources = strings(get(config, "resources"))
    if not is_set(get(config, "provider", "keyArn")) or (
        "secrets" not in resources and not is_unknown(get(config, "resources"))
    ):
        yield "EKS secrets are not envelope-encrypted: set encryption_config with " + (
            "provider.key_arn and resources=['secrets']"
        )


def _eks_version(_: str, inputs: Inputs) -> Iterable[str]:
    version = inputs.get("version")
    if version is None or is_unknown(version):
        return
    if str(version) not in SUPPORTED_EKS_VERSIONS:
        yield f"EKS version {version} is not supported: use one of " + (
            ", ".join(SUPPORTED_EKS_VERSIONS)
        )


# --- Monitoring, logs, keys ------------------------------------------------------------------


def _sns_kms(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(inputs.get("kmsMasterKeyId")):
        yield "SNS topic is not encrypted: set kms_master_key_id to the stack's KMS key"


def _alarm_actions_enabled(_: str, inputs: Inputs) -> Iterable[str]:
    if is_false(inputs.get("actionsEnabled")):
        yield "alarm actions are disabled: remove actions_enabled=False"


def _alarm_notifies(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(inputs.get("alarmActions")):
        yield "alarm notifies nobody: set alarm_actions to the stack's SNS topic"


def _log_retention(_: str, inputs: Inputs) -> Iterable[str]:
    days = inputs.get("retentionInDays")
    if days is None or days == 0:
        yield "log group keeps logs forever: set retention_in_days"


def _log_kms(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(inputs.get("kmsKeyId")):
        yield "log group is not KMS-encrypted: set kms_key_id to the stack's KMS key"


def _kms_rotation(_: str, inputs: Inputs) -> Iterable[str]:
    if inputs.get("customerMasterKeySpec", inputs.get("keySpec")) not in (
        None,
        "SYMMETRIC_DEFAULT",
    ):
        return  # AWS rotates only symmetric keys
    if not is_true(inputs.get("enableKeyRotation", False)):
        yield "KMS key rotation is off: set enable_key_rotation=True"


# --- S3 --------------------------------------------------------------------------------------


def _s3_public_access_block(_: str, inputs: Inputs) -> Iterable[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    missing = [flag for flag in flags if not is_true(inputs.get(flag, False))]
    if missing:
        yield f"S3 public access is not fully blocked: set {', '.join(missing)} to true"


# --- IAM -------------------------------------------------------------------------------------

_ADMIN_MANAGED_POLICY = re.compile(
    r"^arn:aws[a-z-]*:iam::aws:policy/(.*/)?"
    r"(AdministratorAccess|PowerUserAccess|IAMFullAccess|[A-Za-z0-9]*FullAccess[A-Za-z0-9]*)$"
)


def _managed_policy_arns(type_token: str, inputs: Inputs) -> list[str]:
    if type_token == IAM_ROLE:
        return strings(inputs.get("managedPolicyArns"))
    return strings(inputs.get("policyArn"))


def _iam_no_admin_managed(type_token: str, inputs: Inputs) -> Iterable[str]:
    for arn in _managed_policy_arns(type_token, inputs):
        if _ADMIN_MANAGED_POLICY.match(arn):
            name = arn.rsplit("/", 1)[1]
            yield f"{name} grants admin or full-access rights: attach a least-privilege policy"


def _iam_no_wildcard_actions(type_token: str, inputs: Inputs) -> Iterable[str]:
    for document in permission_documents(type_token, inputs):
        for statement in policy_statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = strings(statement.get("Action"))
            if "*" in actions or "*:*" in actions:
                sid = statement.get("Sid") or "a statement"
                yield f"IAM policy ({sid}) allows every action: list the actions it needs"


# --- EC2 -------------------------------------------------------------------------------------


def _launch_template_imdsv2(_: str, inputs: Inputs) -> Iterable[str]:
    options = inputs.get("metadataOptions")
    if get(options, "httpEndpoint") == "disabled":
        return
    if get(options, "httpTokens") != "required" and not is_unknown(get(options, "httpTokens")):
        yield "instances accept IMDSv1: set metadata_options.http_tokens='required'"


def _launch_template_ebs_encrypted(_: str, inputs: Inputs) -> Iterable[str]:
    for mapping in as_list(inputs.get("blockDeviceMappings")):
        ebs = get(mapping, "ebs")
        if ebs is not None and not is_true(get(ebs, "encrypted", default=False)):
            device = get(mapping, "deviceName") or "a volume"
            yield f"EBS volume {device} is not encrypted: set ebs.encrypted='true' and kms_key_id"


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="sagemaker-endpoint-config-kms",
        description="SageMaker endpoint configurations encrypt their ML storage volumes with KMS.",
        resource_types=(SAGEMAKER_ENDPOINT_CONFIGURATION,),
        check=_endpoint_config_kms,
        fix="keep the stack's KMS key on the endpoint configuration: the endpoint component "
        "sets it for every mlstack:sagemaker.instanceType that takes one (instance-store "
        "types such as ml.g5.* are encrypted by the hardware and exempt)",
        checkov_id="CKV_AWS_98",
    ),
    ResourceRule(
        name="sagemaker-data-capture-kms",
        description="Captured inference data is encrypted with the stack's KMS key.",
        resource_types=(SAGEMAKER_ENDPOINT_CONFIGURATION,),
        check=_data_capture_kms,
        fix="keep the stack's KMS key on captured data (endpoint component) while "
        "mlstack:sagemaker.dataCapture.enabled is true",
    ),
    ResourceRule(
        name="sagemaker-model-network-isolation",
        description="SageMaker models run with network isolation (no outbound calls).",
        resource_types=(SAGEMAKER_MODEL,),
        check=_model_network_isolation,
        fix="set mlstack:sagemaker.networkIsolation: true",
        checkov_id="CKV_AWS_370",
    ),
    ResourceRule(
        name="model-monitor-output-kms",
        description="Model Monitor data-quality jobs encrypt their reports with KMS.",
        resource_types=(SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,),
        check=_monitor_output_kms,
        fix="keep the stack's KMS key on the drift reports (drift component, "
        "mlstack:monitoring.drift)",
        checkov_id="CKV_AWS_367",
    ),
    ResourceRule(
        name="model-monitor-volume-kms",
        description="Model Monitor data-quality jobs encrypt their storage volumes with KMS.",
        resource_types=(SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,),
        check=_monitor_volume_kms,
        fix="keep the stack's KMS key on the drift job's volume (drift component, "
        "mlstack:monitoring.drift)",
        checkov_id="CKV_AWS_368",
    ),
    ResourceRule(
        name="model-monitor-traffic-encryption",
        description="Model Monitor data-quality jobs encrypt traffic between their instances.",
        resource_types=(SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,),
        check=_monitor_traffic_encryption,
        fix="keep inter-container traffic encryption on (drift component, "
        "mlstack:monitoring.drift)",
        checkov_id="CKV_AWS_369",
    ),
    ResourceRule(
        name="ecr-immutable-tags",
        description="ECR repositories use immutable tags, so a deployed tag never changes.",
        resource_types=(ECR_REPOSITORY,),
        check=_ecr_immutable,
        fix="keep tags immutable (registry component, mlstack:registry): release each image under"
        " a new tag",
        checkov_id="CKV_AWS_51",
    ),
    ResourceRule(
        name="ecr-scan-on-push",
        description="ECR repositories scan every pushed image for vulnerabilities.",
        resource_types=(ECR_REPOSITORY,),
        check=_ecr_scan_on_push,
        fix="keep scan on push on (registry component, mlstack:registry)",
        checkov_id="CKV_AWS_163",
    ),
    ResourceRule(
        name="ecr-kms-encryption",
        description="ECR repositories are encrypted with a KMS key.",
        resource_types=(ECR_REPOSITORY,),
        check=_ecr_kms,
        fix="keep the stack's KMS key on the repository (registry component, mlstack:registry)",
        checkov_id="CKV_AWS_136",
    ),
    ResourceRule(
        name="ecr-no-public-policy",
        description="ECR repository policies never allow any principal without a condition.",
        resource_types=(ECR_REPOSITORY_POLICY,),
        check=_ecr_not_public,
        fix="name the allowed accounts or roles in the repository policy's Principal",
        checkov_id="CKV_AWS_32",
    ),
    ResourceRule(
        name="eks-control-plane-logging",
        description="EKS clusters send all five control-plane log types to CloudWatch.",
        resource_types=(EKS_CLUSTER,),
        check=_eks_logging,
        fix="keep all five control-plane log types on (cluster component, mlstack:eks)",
        checkov_id="CKV_AWS_37",
    ),
    ResourceRule(
        name="eks-private-endpoint",
        description="EKS API endpoints are private.",
        resource_types=(EKS_CLUSTER,),
        check=_eks_public_endpoint,
        fix="set mlstack:eks.endpointAccess: private (reach the API from the VPC)",
        checkov_id="CKV_AWS_39",
    ),
    ResourceRule(
        name="eks-public-endpoint-cidrs",
        description="A public EKS API endpoint, where opted in, is limited to listed CIDRs.",
        resource_types=(EKS_CLUSTER,),
        check=_eks_public_cidrs,
        fix="list your networks in mlstack:eks.publicAccessCidrs (never 0.0.0.0/0), or set "
        "mlstack:eks.endpointAccess: private",
        checkov_id="CKV_AWS_38",
    ),
    ResourceRule(
        name="eks-secrets-encryption",
        description="EKS clusters envelope-encrypt Kubernetes secrets with KMS.",
        resource_types=(EKS_CLUSTER,),
        check=_eks_secrets_encryption,
        fix="keep secrets encrypted with the stack's KMS key (cluster component, mlstack:eks)",
        checkov_id="CKV_AWS_58",
    ),
    ResourceRule(
        name="eks-supported-version",
        description="EKS clusters run a Kubernetes version EKS supports.",
        resource_types=(EKS_CLUSTER,),
        check=_eks_version,
        fix="set mlstack:eks.kubernetesVersion to a version EKS supports",
        checkov_id="CKV_AWS_339",
    ),
    ResourceRule(
        name="sns-topic-kms",
        description="SNS topics are encrypted with KMS.",
        resource_types=(SNS_TOPIC,),
        check=_sns_kms,
        fix="keep the stack's KMS key on the alert topic (monitoring component, "
        "mlstack:monitoring)",
        checkov_id="CKV_AWS_26",
    ),
    ResourceRule(
        name="cloudwatch-alarm-actions-enabled",
        description="CloudWatch alarm actions are never disabled.",
        resource_types=(CLOUDWATCH_METRIC_ALARM,),
        check=_alarm_actions_enabled,
        fix="keep alarm actions enabled (alarms component, mlstack:monitoring.alarms)",
        checkov_id="CKV_AWS_319",
    ),
    ResourceRule(
        name="cloudwatch-alarm-notifies",
        description="Every CloudWatch alarm notifies someone when it fires.",
        resource_types=(CLOUDWATCH_METRIC_ALARM,),
        check=_alarm_notifies,
        fix="keep the alert topic as the alarm's action (alarms component); subscribe people with"
        " mlstack:monitoring.emailSubscriptions or httpsSubscriptions",
    ),
    ResourceRule(
        name="log-group-retention",
        description="CloudWatch log groups expire their logs after a set number of days.",
        resource_types=(CLOUDWATCH_LOG_GROUP,),
        check=_log_retention,
        fix="set mlstack:monitoring.logRetentionDays (flow logs: "
        "mlstack:network.flowLogRetentionDays; EKS: mlstack:eks.controlPlaneLogRetentionDays)",
        checkov_id="CKV_AWS_66",
    ),
    ResourceRule(
        name="log-group-kms",
        description="CloudWatch log groups are encrypted with KMS.",
        resource_types=(CLOUDWATCH_LOG_GROUP,),
        check=_log_kms,
        fix="keep the stack's KMS key on the log group (the component that declares it)",
        checkov_id="CKV_AWS_158",
    ),
    ResourceRule(
        name="kms-key-rotation",
        description="Customer-managed symmetric KMS keys rotate their key material.",
        resource_types=(KMS_KEY,),
        check=_kms_rotation,
        fix="keep key rotation on (registry component, mlstack:registry)",
        checkov_id="CKV_AWS_7",
    ),
    ResourceRule(
        name="s3-public-access-blocked",
        description="S3 public access blocks set all four flags.",
        resource_types=(S3_BUCKET_PUBLIC_ACCESS_BLOCK,),
        check=_s3_public_access_block,
        fix="keep all four public access block flags on (registry component, mlstack:registry)",
        checkov_id="CKV_AWS_53/54/55/56",
    ),
    ResourceRule(
        name="iam-no-admin-managed-policy",
        description="No role, user or group gets AWS's admin or *FullAccess managed policies.",
        resource_types=(IAM_ROLE, *IAM_POLICY_ATTACHMENT_TYPES),
        check=_iam_no_admin_managed,
        fix="attach a least-privilege policy listing only the actions and resources needed",
        checkov_id="CKV_AWS_274",
    ),
    ResourceRule(
        name="iam-no-wildcard-actions",
        description='IAM policies never allow every action ("*").',
        resource_types=(IAM_ROLE, IAM_POLICY, IAM_ROLE_POLICY),
        check=_iam_no_wildcard_actions,
        fix="list the actions the principal needs instead of '*'",
        checkov_id="CKV_AWS_63",
    ),
    ResourceRule(
        name="launch-template-imdsv2",
        description="Node launch templates require IMDSv2 (session tokens).",
        resource_types=(EC2_LAUNCH_TEMPLATE,),
        check=_launch_template_imdsv2,
        fix="keep IMDSv2 required on the node launch template (cluster component, "
        "mlstack:eks.nodeGroup)",
        checkov_id="CKV_AWS_79",
    ),
    ResourceRule(
        name="launch-template-ebs-encrypted",
        description="Node launch templates encrypt their EBS volumes.",
        resource_types=(EC2_LAUNCH_TEMPLATE,),
        check=_launch_template_ebs_encrypted,
        fix="keep node volumes encrypted with the stack's KMS key (cluster component, "
        "mlstack:eks.nodeGroup)",
    ),
)
