"""Replacement rules: known provider facts, path matching, coverage of planned types."""

from __future__ import annotations

import re

import pytest

from mlstack.diff_data import replacement
from mlstack.diff_data.replacement import UnknownResourceType, replacement_paths
from mlstack.offline.plan import Plan

FUTURE_TYPES = {
    "aws:sagemaker/pipeline:Pipeline",
    "aws:scheduler/schedule:Schedule",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:sagemaker/model:Model",
    "aws-native:sagemaker:InferenceComponent",
    "aws-native:sagemaker:ModelQualityJobDefinition",
    "aws-native:sagemaker:ModelExplainabilityJobDefinition",
}


def replaces(type_token: str, path: str) -> bool:
    return replacement_paths(type_token, [path]) == [path]


# ---------------------------------------------------------------- AWS facts


def test_vpc_replaces_on_cidr_block_not_tags() -> None:
    assert replaces("aws:ec2/vpc:Vpc", "cidrBlock")
    assert not replaces("aws:ec2/vpc:Vpc", "tags.Name")
    assert not replaces("aws:ec2/vpc:Vpc", "enableDnsHostnames")


def test_subnet_replaces_on_cidr_and_zone() -> None:
    assert replaces("aws:ec2/subnet:Subnet", "cidrBlock")
    assert replaces("aws:ec2/subnet:Subnet", "availabilityZone")
    assert not replaces("aws:ec2/subnet:Subnet", "mapPublicIpOnLaunch")


def test_sagemaker_model_replaces_on_image_and_role() -> None:
    token = "aws:sagemaker/model:Model"
    assert replaces(token, "primaryContainer.image")
    assert replaces(token, "executionRoleArn")
    assert replaces(token, "containers[1].image")
    assert not replaces(token, "tags.owner")


def test_endpoint_configuration_replaces_on_instance_type_and_kms_key() -> None:
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    assert replaces(token, "productionVariants[0].instanceType")
    assert replaces(token, "productionVariants[2].instanceType")
    assert replaces(token, "kmsKeyArn")
    assert not replaces(token, "tags.owner")


def test_endpoint_updates_in_place_on_new_config() -> None:
    """A new endpoint configuration is a blue/green update, not a replacement."""
    token = "aws:sagemaker/endpoint:Endpoint"
    assert not replaces(token, "endpointConfigName")
    assert replaces(token, "name")


def test_metric_alarm_replaces_only_on_name() -> None:
    token = "aws:cloudwatch/metricAlarm:MetricAlarm"
    assert replacement.rules_for(token) == ["name", "region"]
    assert not replaces(token, "threshold")


def test_region_change_replaces_regional_resources_only() -> None:
    """terraform-provider-aws v6 replaces a regional resource whose region changes."""
    assert replaces("aws:ec2/vpc:Vpc", "region")
    assert replaces("aws:sagemaker/endpoint:Endpoint", "region")
    assert not replaces("aws:iam/role:Role", "region")  # IAM is global: no region input


def test_kms_key_description_is_an_update() -> None:
    assert not replaces("aws:kms/key:Key", "description")
    assert replaces("aws:kms/key:Key", "keyUsage")


def test_pulumi_renames_are_applied() -> None:
    """Terraform ``topic_arn`` is Pulumi's ``topic``; MaxItems=1 blocks are objects."""
    assert replaces("aws:sns/topicSubscription:TopicSubscription", "topic")
    rules = replacement.rules_for("aws:sagemaker/model:Model")
    assert not any(r.startswith("primaryContainer[") for r in rules)


def test_update_in_place_resource_has_no_schema_rule() -> None:
    """An internet gateway's inputs all update in place (only the injected region replaces)."""
    assert replacement.rules_for("aws:ec2/internetGateway:InternetGateway") == ["region"]
    assert replacement_paths("aws:ec2/internetGateway:InternetGateway", ["vpcId"]) == []


def test_rule_paths_are_camel_case() -> None:
    for token in replacement.covered_types():
        for rule in replacement.rules_for(token):
            assert "_" not in rule.replace("[*]", ""), (token, rule)
            assert re.fullmatch(r"[A-Za-z0-9]+(\[\*\])?(\.[A-Za-z0-9]+(\[\*\])?)*", rule), rule


# --------------------------------------------------------- kubernetes facts


def test_deployment_selector_and_identity() -> None:
    token = "kubernetes:apps/v1:Deployment"
    assert replaces(token, "spec.selector.matchLabels.app")
    assert replaces(token, "metadata.name")
    assert replaces(token, "metadata.namespace")
    assert not replaces(token, "spec.replicas")
    assert not replaces(token, "spec.template.spec.containers[0].image")
    assert not replaces(token, "metadata.labels.app")


def test_service_cluster_ip_replaces_ports_do_not() -> None:
    token = "kubernetes:core/v1:Service"
    assert replaces(token, "spec.clusterIP")
    assert not replaces(token, "spec.ports[0].port")


def test_job_template_and_pvc_spec() -> None:
    assert replaces("kubernetes:batch/v1:Job", "spec.template.spec.containers[0].image")
    assert replaces("kubernetes:core/v1:PersistentVolumeClaim", "spec.storageClassName")


def test_service_account_and_crds_replace_only_on_identity() -> None:
    for token in (
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:argoproj.io/v1alpha1:Rollout",
        "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
    ):
        assert replacement.rules_for(token) == ["metadata.name", "metadata.namespace"]
        assert not replaces(token, "spec.strategy")


def test_helm_release_replaces_on_name_and_namespace() -> None:
    token = "kubernetes:helm.sh/v3:Release"
    assert replaces(token, "name")
    assert replaces(token, "namespace")
    assert not replaces(token, "values.replicaCount")


def test_kubernetes_provider_replaces_on_cluster_identity() -> None:
    token = "pulumi:providers:kubernetes"
    assert replaces(token, "kubeconfig")
    assert not replaces(token, "enableServerSideApply")


def test_aws_native_create_only_properties() -> None:
    token = "aws-native:sagemaker:ModelQualityJobDefinition"
    assert replaces(token, "jobDefinitionName")
    assert replaces(token, "modelQualityJobInput.endpointInput.endpointName")
    # An inference component has no create-only property: it updates in place.
    assert replacement.rules_for("aws-native:sagemaker:InferenceComponent") == []


# ------------------------------------------------------------ path matching


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ("productionVariants[3].instanceType", True),
        ("productionVariants[3].instanceType.extra", True),
        ("productionVariants", True),  # the whole list changed
        ("productionVariants[0]", True),
        ("productionVariants[0].initialVariantWeightX", False),
        ("productionVariantsX[0].instanceType", False),
        ("tags.owner", False),
        ("tags", False),
    ],
)
def test_list_wildcard_and_prefix_matching(changed: str, expected: bool) -> None:
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    assert replaces(token, changed) is expected


def test_result_keeps_input_order_and_filters() -> None:
    token = "aws:ec2/subnet:Subnet"
    changed = ["tags.a", "vpcId", "mapPublicIpOnLaunch", "cidrBlock"]
    assert replacement_paths(token, changed) == ["vpcId", "cidrBlock"]


def test_unknown_type_is_a_clear_error() -> None:
    with pytest.raises(UnknownResourceType, match="no replacement rules"):
        replacement_paths("aws:nope/thing:Thing", ["a"])


def test_malformed_path_raises() -> None:
    with pytest.raises(ValueError, match="malformed"):
        replacement_paths("aws:ec2/vpc:Vpc", ["a..b"])


# ----------------------------------------------------------- data coverage


def test_every_planned_type_is_covered(shipped_plans: dict[str, Plan]) -> None:
    planned = {
        r.type
        for plan in shipped_plans.values()
        for r in plan.resources
        if not r.type.startswith("mlstack:")
    }
    assert planned, "plans have resources"
    missing = planned - replacement.covered_types()
    assert not missing


def test_future_types_are_covered() -> None:
    assert not FUTURE_TYPES - replacement.covered_types()


def test_source_records_versions() -> None:
    src = replacement.source()
    assert src["provider"] == "terraform-provider-aws"
    assert re.fullmatch(r"[0-9a-f]{40}", src["commit"])
    assert re.match(r"\d+\.\d+\.\d+", src["version"])
    assert re.match(r"\d+\.\d+\.\d+", src["pulumiAws"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src["derived"])
    assert re.fullmatch(r"[0-9a-f]{40}", src["pulumiKubernetes"]["commit"])
    assert re.fullmatch(r"[0-9a-f]{40}", src["pulumiAwsNative"]["commit"])


def _pulumi_aws_inputs(token: str) -> set[str]:
    """Top-level input names of a pulumi-aws resource, from the installed SDK."""
    import importlib
    import sys

    _, mod_path, cls = token.split(":")
    package = importlib.import_module(f"pulumi_aws.{mod_path.split('/')[0]}")
    module = sys.modules[getattr(package, cls).__module__]
    args = getattr(module, f"{cls}InitArgs", None) or getattr(module, f"{cls}Args")
    return {
        getattr(v.fget, "_pulumi_name", k)
        for k, v in vars(args).items()
        if isinstance(v, property) and v.fget is not None
    }


def test_aws_rules_name_real_pulumi_inputs() -> None:
    """Every rule starts at an input the installed pulumi-aws really has."""
    for token in sorted(replacement.covered_types()):
        if not token.startswith("aws:"):
            continue
        inputs = _pulumi_aws_inputs(token)
        for rule in replacement.rules_for(token):
            head = rule.split(".")[0].removesuffix("[*]")
            assert head in inputs, (token, rule)
