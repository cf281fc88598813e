"""Plan -> manifests: object extraction, built-in detection, file names, the skips file."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlstack.manifests import (
    RENDER_HEADER,
    api_version_and_kind,
    file_name,
    helm_releases,
    is_builtin,
    manifests,
    write_manifests,
)
from mlstack.offline.plan import Plan


def test_type_tokens_map_to_api_version_and_kind() -> None:
    assert api_version_and_kind("kubernetes:core/v1:Namespace") == ("v1", "Namespace")
    assert api_version_and_kind("kubernetes:apps/v1:Deployment") == ("apps/v1", "Deployment")
    assert api_version_and_kind("kubernetes:argoproj.io/v1alpha1:Rollout") == (
        "argoproj.io/v1alpha1",
        "Rollout",
    )
    for not_an_object in (
        "kubernetes:helm.sh/v3:Release",
        "pulumi:providers:kubernetes",
        "mlstack:k8s_serving:KubernetesServing",
        "aws:eks/cluster:Cluster",
    ):
        assert api_version_and_kind(not_an_object) is None


def test_builtin_kinds_are_told_from_custom_ones() -> None:
    assert is_builtin({"apiVersion": "v1"})
    assert is_builtin({"apiVersion": "autoscaling/v2"})
    assert is_builtin({"apiVersion": "networking.k8s.io/v1"})
    assert not is_builtin({"apiVersion": "argoproj.io/v1alpha1"})


def test_manifests_are_plain_objects_with_integers(shipped_plans: dict[str, Plan]) -> None:
    objects = manifests(shipped_plans["production"])
    assert objects
    for obj in objects:
        assert list(obj)[:3] == ["apiVersion", "kind", "metadata"]
        assert obj["metadata"]["name"]
    (hpa,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert isinstance(hpa["spec"]["minReplicas"], int)
    assert helm_releases(shipped_plans["production"])[0]["version"]


def test_file_names_are_kind_and_name_and_stay_unique() -> None:
    service = {"kind": "Service", "metadata": {"name": "api", "namespace": "a"}}
    assert file_name(service) == "service-api.yaml"
    assert file_name(service, ["service-api.yaml"]) == "service-a-api.yaml"


def test_write_replaces_earlier_renders_and_keeps_other_files(tmp_path: Path) -> None:
    (tmp_path / "service-old.yaml").write_text(RENDER_HEADER + "kind: Service\n")
    (tmp_path / "notes.yaml").write_text("mine: true\n")
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}
    written = write_manifests([obj], tmp_path)
    assert [p.name for p in written] == ["namespace-ns.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["namespace-ns.yaml", "notes.yaml"]
    assert yaml.safe_load(written[0].read_text()) == obj
