"""Config rules of the EKS path: each invalid network, cluster or serving value is rejected
with the stack file, the key path and what is allowed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from infra.config import ConfigError
from mlstack.project import PROJECT_ROOT
from tests.infra.config_helpers import config_from_doc
from tests.infra.eks_plans import enable_eks_on_staging

Edit = Callable[[dict[str, Any]], None]


def _doc(stack: str) -> dict[str, Any]:
    path = PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    return YAML(typ="safe").load(path.read_text())["config"]


def rejected(edit: Edit, stack: str = "production") -> str:
    doc = copy.deepcopy(_doc(stack))
    if stack == "staging":
        enable_eks_on_staging(doc)
    edit(doc)
    with pytest.raises(ConfigError) as info:
        config_from_doc(stack, doc)
    message = str(info.value)
    assert message.startswith(f"stacks/Pulumi.{stack}.yaml: mlstack:")
    assert len(message.splitlines()) <= 3
    return message


def _set(section: str, key: str, value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        doc[f"mlstack:{section}"][key] = value

    return edit


def test_staging_like_eks_config_is_accepted() -> None:
    doc = copy.deepcopy(_doc("staging"))
    enable_eks_on_staging(doc)
    config = config_from_doc("staging", doc)
    assert config.eks.enabled and config.network.enabled


def test_rejects_eks_without_network() -> None:
    message = rejected(_set("network", "enabled", False), "staging")
    assert "mlstack:eks.enabled = true" in message and "enable network" in message


def test_rejects_unsupported_kubernetes_version() -> None:
    message = rejected(_set("eks", "kubernetesVersion", "1.27"))
    assert "mlstack:eks.kubernetesVersion" in message and "1.33" in message


def test_rejects_public_endpoint_without_cidrs() -> None:
    message = rejected(_set("eks", "endpointAccess", "private-and-public"))
    assert "mlstack:eks.publicAccessCidrs" in message


def test_rejects_public_endpoint_open_to_the_internet() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:eks"]["endpointAccess"] = "private-and-public"
        doc["mlstack:eks"]["publicAccessCidrs"] = ["0.0.0.0/0"]

    assert "publicAccessCidrs[0]" in rejected(edit)


def test_rejects_public_cidrs_on_a_private_endpoint() -> None:
    message = rejected(_set("eks", "publicAccessCidrs", ["203.0.113.0/24"]))
    assert "only with endpointAccess: private-and-public" in message


def test_rejects_cluster_without_admins() -> None:
    assert "mlstack:eks.adminPrincipalArns" in rejected(_set("eks", "adminPrincipalArns", []))


def test_rejects_admin_that_is_not_an_iam_principal() -> None:
    message = rejected(_set("eks", "adminPrincipalArns", ["arn:aws:s3:::bucket"]))
    assert "mlstack:eks.adminPrincipalArns[0]" in message


def test_rejects_node_group_sizes_out_of_order() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:eks"]["nodeGroup"]["desiredSize"] = 20

    assert "mlstack:eks.nodeGroup.desiredSize" in rejected(edit)


def test_rejects_vpc_range_that_is_public() -> None:
    assert "mlstack:network.cidr" in rejected(_set("network", "cidr", "8.8.0.0/16"))


def test_rejects_vpc_range_too_small_for_pods() -> None:
    assert "/16 to /20" in rejected(_set("network", "cidr", "10.0.0.0/24"))


def test_rejects_flow_log_retention_cloudwatch_does_not_offer() -> None:
    assert "flowLogRetentionDays" in rejected(_set("network", "flowLogRetentionDays", 42))


def test_rejects_production_over_two_azs() -> None:
    message = rejected(_set("network", "availabilityZones", 2))
    assert "mlstack:network.availabilityZones" in message and "3 AZs" in message


def test_rejects_production_single_nat_gateway() -> None:
    assert "mlstack:network.nat" in rejected(_set("network", "nat", "single"))


def test_rejects_production_image_without_digest() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"].pop("imageDigest")
        doc["mlstack:kubernetes"]["imageTag"] = "1.4.0"

    assert "mlstack:kubernetes.imageDigest" in rejected(edit)


def test_rejects_production_model_fetcher_without_digest() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"].pop("modelFetcherImageDigest")

    assert "mlstack:kubernetes.modelFetcherImageDigest" in rejected(edit)


def test_rejects_unpinned_serving_image() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"].pop("imageTag")

    assert "mlstack:kubernetes.imageDigest" in rejected(edit, "staging")


def test_rejects_latest_tag() -> None:
    assert "mlstack:kubernetes.imageTag" in rejected(
        _set("kubernetes", "imageTag", "latest"), "staging"
    )


def test_rejects_malformed_digest() -> None:
    assert "imageDigest" in rejected(_set("kubernetes", "imageDigest", "sha256:abc"))


def test_rejects_model_artifact_that_is_neither_archive_nor_prefix() -> None:
    message = rejected(_set("kubernetes", "modelArtifact", "models/model.pkl"))
    assert "mlstack:kubernetes.modelArtifact" in message


def test_rejects_max_replicas_below_min() -> None:
    assert "mlstack:kubernetes.maxReplicas" in rejected(_set("kubernetes", "maxReplicas", 1))


def test_rejects_production_single_pod() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"]["minReplicas"] = 1

    assert "mlstack:kubernetes.minReplicas" in rejected(edit)


def test_rejects_resource_quantity_typo() -> None:
    assert "mlstack:kubernetes.cpuLimit" in rejected(_set("kubernetes", "cpuLimit", "2 cores"))


def test_rejects_misspelt_eks_key_with_hint() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:eks"]["kubernetesVersoin"] = doc["mlstack:eks"].pop("kubernetesVersion")

    message = rejected(edit)
    assert "unknown key" in message and "kubernetesVersion" in message
