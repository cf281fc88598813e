"""Config of the pinned model artifact, the bucket's model writers and the serving pods'
network peers: production pins the artifact, writers belong to the stack's account, and
scrapers are known."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.kubernetes import prometheus_namespace
from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc
from tests.infra.test_config_eks_rejects import _set, rejected

SHA256 = "0123456789abcdef" * 4


def _drop(section: str, *keys: str) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        for key in keys:
            doc[f"mlstack:{section}"].pop(key, None)

    return edit


def test_shipped_production_pins_its_artifact_and_names_its_writer() -> None:
    config = config_from_doc("production", shipped_doc("production"))
    assert config.kubernetes.artifact_pinned
    assert config.registry.model_writer_arns
    assert [p.namespace for p in config.kubernetes.scrapers] == ["monitoring"]


def test_production_rejects_an_unpinned_artifact() -> None:
    message = rejection(
        _drop("kubernetes", "modelArtifactSha256", "modelArtifactVersionId"), "production"
    )
    assert "mlstack:kubernetes.modelArtifactSha256" in message
    assert "modelArtifactVersionId" in message and "production pins the model artifact" in message


@pytest.mark.parametrize("keep", ["modelArtifactSha256", "modelArtifactVersionId"])
def test_either_pin_satisfies_production(keep: str) -> None:
    doc = shipped_doc("production")
    other = {"modelArtifactSha256", "modelArtifactVersionId"} - {keep}
    _drop("kubernetes", *other)(doc)
    assert config_from_doc("production", doc).kubernetes.artifact_pinned


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("modelArtifactSha256", "sha256:" + SHA256, "without sha256:"),
        ("modelArtifactSha256", SHA256.upper(), "64 lower-case hex digits"),
        ("modelArtifactVersionId", "null", "not null"),
        ("modelArtifactVersionId", "a b", "S3 version id"),
    ],
)
def test_rejects_malformed_pins(key: str, value: str, words: str) -> None:
    message = rejected(_set("kubernetes", key, value))
    assert f"mlstack:kubernetes.{key}" in message and words in message


def test_rejects_a_pinned_prefix() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"]["modelArtifact"] = "models/churn-classifier/v3/"

    message = rejection(edit, "production")
    assert "pins one .tar.gz artifact" in message


def test_production_artifact_lives_under_the_protected_prefix() -> None:
    message = rejection(
        _set("kubernetes", "modelArtifact", "uploads/churn/model.tar.gz"), "production"
    )
    assert "mlstack:kubernetes.modelArtifact" in message and "registry.modelPrefix" in message


def test_rejects_a_model_writer_of_another_account() -> None:
    outsider = "arn:aws:iam::999999999999:role/release"
    message = rejection(_set("registry", "modelWriterArns", [outsider]), "production")
    assert "mlstack:registry.modelWriterArns[0]" in message and "123456789012" in message


def test_rejects_a_code_writer_of_another_account() -> None:
    outsider = "arn:aws:iam::999999999999:role/release"
    message = rejection(_set("registry", "codeWriterArns", [outsider]), "production")
    assert "mlstack:registry.codeWriterArns[0]" in message and "123456789012" in message
    assert "release role uploads its step scripts" in message


def test_metrics_scrapers_are_required_for_a_prometheus_outside_the_cluster() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:kubernetes"]["prometheusAddress"] = "https://aps-workspaces.example.com/api"
        doc["mlstack:kubernetes"].pop("metricsScrapers")

    message = rejection(edit, "production")
    assert "mlstack:kubernetes.metricsScrapers" in message


def test_rejects_bad_peer_namespace_and_label() -> None:
    peers = [{"namespace": "Ingress", "podLabels": {"app": "-bad"}}]
    message = rejection(_set("kubernetes", "trafficSources", peers), "production")
    assert "trafficSources[0].namespace" in message and "Kubernetes namespace" in message
    assert "Kubernetes label value" in message


@pytest.mark.parametrize(
    ("address", "namespace"),
    [
        ("http://prometheus-server.monitoring.svc.cluster.local", "monitoring"),
        ("http://prometheus.observability.svc:9090/", "observability"),
        ("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1", None),
    ],
)
def test_prometheus_namespace_is_read_from_a_cluster_address(
    address: str, namespace: str | None
) -> None:
    assert prometheus_namespace(address) == namespace
