"""Which keys a promotion writes, decided in one place (no AWS involved)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mlstack.models.artifact_pins import ArtifactPins
from mlstack.models.promotion import PromotionError, promotion_edits, versioned
from mlstack.models.registry import ModelVersion
from mlstack.models.stack_file import read_stack
from tests.conftest import make_project_copy

DIGEST = "sha256:" + "5" * 64
PACKAGE = ModelVersion(
    group="churn-classifier",
    version=5,
    arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-classifier/5",
    status="Approved",
    image=f"123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@{DIGEST}",
    artifact="s3://bucket/models/churn-classifier/v5/model.tar.gz",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project_copy(tmp_path_factory.mktemp("promotion") / "project")


def test_production_promotion_writes_both_paths_and_the_baselines(project: Path) -> None:
    config = read_stack(project, "production").config
    edits = {e.key: e.value for e in promotion_edits(config, PACKAGE).edits}
    assert edits == {
        "mlstack:model.packageVersion": 5,
        "mlstack:kubernetes.modelArtifact": PACKAGE.artifact,
        "mlstack:kubernetes.imageDigest": DIGEST,
        "mlstack:kubernetes.modelVersion": 5,
        "mlstack:monitoring.drift.baselineStatisticsUri": (
            "baselines/churn-classifier/v5/statistics.json"
        ),
        "mlstack:monitoring.drift.baselineConstraintsUri": (
            "baselines/churn-classifier/v5/constraints.json"
        ),
    }


def test_staging_without_eks_writes_the_version_and_its_baselines(project: Path) -> None:
    config = read_stack(project, "staging").config
    keys = [e.key for e in promotion_edits(config, PACKAGE).edits]
    assert keys == [
        "mlstack:model.packageVersion",
        "mlstack:monitoring.drift.baselineStatisticsUri",
        "mlstack:monitoring.drift.baselineConstraintsUri",
    ]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:5", "not pinned by digest"),
        ("artifact", "s3://bucket/models/v5/", "s3:// URI of a model.tar.gz"),
        ("artifact", None, "s3:// URI of a model.tar.gz"),
    ],
)
def test_a_package_eks_cannot_serve_is_refused(
    project: Path, field: str, value: str | None, needle: str
) -> None:
    config = read_stack(project, "production").config
    package = replace(PACKAGE, **{field: value})
    with pytest.raises(PromotionError, match=needle):
        promotion_edits(config, package)


def test_only_a_whole_version_segment_moves() -> None:
    assert (
        versioned("baselines/churn/v3/statistics.json", 3, 5)
        == "baselines/churn/v5/statistics.json"
    )
    assert versioned("s3://b/v3/v3/c.json", 3, 5) == "s3://b/v5/v5/c.json"
    assert versioned("baselines/churn/v30/statistics.json", 3, 5) is None
    assert versioned("baselines/churn-v3.json", 3, 5) is None


def test_the_stacks_repository_is_checked_where_known(project: Path) -> None:
    config = read_stack(project, "production").config
    repository = PACKAGE.image.partition("@")[0]  # type: ignore[union-attr]
    assert promotion_edits(config, PACKAGE, repository).edits
    with pytest.raises(PromotionError, match="outside the stack's repository"):
        promotion_edits(config, PACKAGE, repository + "-other")


def test_every_reason_eks_cannot_serve_a_package_is_reported_at_once(project: Path) -> None:
    config = read_stack(project, "production").config
    package = replace(PACKAGE, image="repo:5", artifact="s3://bucket/models/v5/")
    with pytest.raises(PromotionError) as raised:
        promotion_edits(config, package)
    assert "not pinned by digest" in str(raised.value)
    assert "s3:// URI of a model.tar.gz" in str(raised.value)


def test_a_new_artifact_is_written_with_the_pins_the_stack_uses(project: Path) -> None:
    config = read_stack(project, "production").config
    asked: list[tuple[str, bool]] = []

    def pins(uri: str, with_sha256: bool) -> ArtifactPins:
        asked.append((uri, with_sha256))
        return ArtifactPins("v-id", "ab" * 32 if with_sha256 else None)

    edits = {e.key: e.value for e in promotion_edits(config, PACKAGE, pins=pins).edits}
    assert asked == [(PACKAGE.artifact, True)]
    assert edits["mlstack:kubernetes.modelArtifactVersionId"] == "v-id"
    assert edits["mlstack:kubernetes.modelArtifactSha256"] == "ab" * 32

    by_version = config.model_copy(
        update={"kubernetes": config.kubernetes.model_copy(update={"model_artifact_sha256": None})}
    )
    edits = {e.key: e.value for e in promotion_edits(by_version, PACKAGE, pins=pins).edits}
    assert asked[-1] == (PACKAGE.artifact, False)
    assert "mlstack:kubernetes.modelArtifactSha256" not in edits

    same = config.model_copy(
        update={
            "kubernetes": config.kubernetes.model_copy(update={"model_artifact": PACKAGE.artifact})
        }
    )
    asked.clear()
    promotion_edits(same, PACKAGE, pins=pins)
    assert asked == []
