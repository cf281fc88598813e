"""The EKS model artifact is pinned: fetched by its S3 version, checked against its sha256 by
the real unpack script before anything is unpacked, and the server's NetworkPolicy admits
only the configured routers and scrapers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from infra.components.errors import ResourceError
from infra.components.k8s_manifests import SHA256_ENV, UNPACK_SCRIPT, NetworkPeer
from infra.config.rollout import RolloutStrategy
from tests.infra.components.conftest import Declare, Declared
from tests.infra.components.test_kubernetes_components import declare_serving, serving_args

VERSION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
DIGEST = "ab" * 32


def _pod(declared: Declared) -> dict[str, Any]:
    return declared.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]


def _read_statement(declared: Declared) -> dict[str, Any]:
    policy = json.loads(declared.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return policy["Statement"][0]


def test_version_pin_fetches_that_version_and_the_role_reads_no_other(declare: Declare) -> None:
    declared = declare_serving(
        declare, serving_args(RolloutStrategy.ROLLING, model_artifact_version_id=VERSION)
    )
    fetch, unpack = _pod(declared)["initContainers"]
    assert fetch["args"][:2] == ["s3api", "get-object"]
    assert fetch["args"][fetch["args"].index("--version-id") + 1] == VERSION
    assert fetch["args"][fetch["args"].index("--key") + 1] == "models/churn/model.tar.gz"
    assert "env" not in unpack
    read = _read_statement(declared)
    assert read["Action"] == "s3:GetObjectVersion"
    assert read["Condition"] == {"StringEquals": {"s3:VersionId": VERSION}}


def test_sha256_pin_is_handed_to_the_unpack_step(declare: Declare) -> None:
    declared = declare_serving(
        declare, serving_args(RolloutStrategy.ROLLING, model_artifact_sha256=DIGEST)
    )
    fetch, unpack = _pod(declared)["initContainers"]
    assert fetch["args"][:2] == ["s3", "cp"]
    assert unpack["env"] == [{"name": SHA256_ENV, "value": DIGEST}]
    assert _read_statement(declared)["Action"] == "s3:GetObject"


@pytest.mark.parametrize("pin", ["model_artifact_sha256", "model_artifact_version_id"])
def test_a_prefix_artifact_cannot_be_pinned(declare: Declare, pin: str) -> None:
    args = serving_args(RolloutStrategy.ROLLING, model_key="models/churn/", **{pin: "x" * 64})
    with pytest.raises(ResourceError, match="not a prefix"):
        declare_serving(declare, args)


def test_without_sources_nothing_may_connect(declare: Declare) -> None:
    args = serving_args(RolloutStrategy.ROLLING, traffic_sources=(), metrics_scrapers=())
    policies = declare_serving(declare, args).of_type(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    )
    server = next(p.inputs["spec"] for p in policies if p.inputs["spec"].get("egress"))
    assert server.get("ingress", []) == []


def test_peers_select_their_namespace_and_labels(declare: Declare) -> None:
    args = serving_args(
        RolloutStrategy.ROLLING,
        traffic_sources=(NetworkPeer("gateway", {"app": "envoy"}), NetworkPeer("clients")),
    )
    policies = declare_serving(declare, args).of_type(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    )
    server = next(p.inputs["spec"] for p in policies if p.inputs["spec"].get("egress"))
    routers = server["ingress"][0]["from"]
    assert routers == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}},
            "podSelector": {"matchLabels": {"app": "envoy"}},
        },
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "clients"}}},
    ]


# --- the unpack script itself, run as the init container runs it ------------------------------


def _archive(path: Path) -> str:
    payload = b"model bytes"
    with tarfile.open(path, "w:gz") as bundle:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(payload)
        bundle.addfile(info, io.BytesIO(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unpack(archive: Path, target: Path, digest: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != SHA256_ENV}
    if digest is not None:
        env[SHA256_ENV] = digest
    command = [sys.executable, "-c", UNPACK_SCRIPT, str(archive), str(target)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_unpack_accepts_the_pinned_archive(tmp_path: Path) -> None:
    archive, target = tmp_path / "model.tar.gz", tmp_path / "model"
    target.mkdir()
    result = _unpack(archive, target, _archive(archive))
    assert result.returncode == 0, result.stderr
    assert (target / "model.joblib").read_bytes() == b"model bytes"


def test_unpack_refuses_a_replaced_archive_before_opening_it(tmp_path: Path) -> None:
    archive, target = tmp_path / "model.tar.gz", tmp_path / "model"
    target.mkdir()
    pinned = _archive(archive)
    archive.write_bytes(archive.read_bytes() + b"\0")  # the file was swapped in the bucket
    result = _unpack(archive, target, pinned)
    assert result.returncode == 1
    assert f"is not the pinned {pinned}" in result.stderr
    assert list(target.iterdir()) == [], "nothing of the swapped file was unpacked"


def test_unpack_without_a_pin_unpacks_as_before(tmp_path: Path) -> None:
    archive, target = tmp_path / "model.tar.gz", tmp_path / "model"
    target.mkdir()
    _archive(archive)
    assert _unpack(archive, target, None).returncode == 0
