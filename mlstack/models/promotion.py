"""What promoting a model version writes into a stack file: one function, :func:`promotion_edits`.

The version selects what both serving paths serve. SageMaker resolves a package version
itself (the program derives the package ARN); the EKS workload cannot, because the offline
plan runs without AWS access, so the promotion resolves the package once, with
``DescribeModelPackage``, and writes its artifact (``ModelDataUrl``) and image digest beside
the version, where the pull request shows them. Drift baselines stored under a version
directory (``.../v3/statistics.json``) move to the new version's directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.config import PROJECT, StackConfig
from infra.config.stack import ServedModel
from mlstack.models.artifact_pins import ArtifactPins
from mlstack.models.registry import DIGEST, ModelVersion
from mlstack.models.stack_file import VERSION_FIELD, Edit

BASELINE_FIELDS = ("baselineStatisticsUri", "baselineConstraintsUri")


class PromotionError(Exception):
    """The model version cannot be served by every path of the stack; the message says why."""


@dataclass(frozen=True)
class Promotion:
    """The edits of a promotion and what it left alone, for the reviewer."""

    edits: list[Edit]
    notes: list[str]


def eks_image_digest(version: ModelVersion, repository_url: str | None = None) -> str:
    """The ``sha256:`` digest of the version's image; the EKS path pulls it by digest from
    the stack's repository (``repository_url``, checked where known)."""
    repository, _, digest = (version.image or "").partition("@")
    if repository_url and DIGEST.match(digest) and repository != repository_url:
        raise PromotionError(
            f"{version.describe()} has image '{version.image}', outside the stack's repository "
            f"{repository_url}, from which the EKS path pulls: register the version with an "
            "image of the stack's repository"
        )
    if not DIGEST.match(digest):
        raise PromotionError(
            f"{version.describe()} has image '{version.image}', not pinned by digest: the EKS "
            "path serves <repository>@sha256:<digest>; register the version with "
            "`mlstack model register --image <repository>@sha256:...`"
        )
    return digest


def eks_artifact(version: ModelVersion) -> str:
    """The version's model artifact, an ``s3://`` URI of a ``.tar.gz``."""
    artifact = version.artifact or ""
    if not artifact.startswith("s3://") or not artifact.endswith(".tar.gz"):
        raise PromotionError(
            f"{version.describe()} has model data '{version.artifact}': the EKS path needs an "
            "s3:// URI of a model.tar.gz; register the version with --artifact s3://..."
        )
    return artifact


def versioned(uri: str, old: int, new: int) -> str | None:
    """``uri`` with its ``v<old>`` path segment turned into ``v<new>``; None when it has none."""
    parts = uri.split("/")
    if f"v{old}" not in parts:
        return None
    return "/".join(f"v{new}" if part == f"v{old}" else part for part in parts)


def promotion_edits(
    config: StackConfig,
    version: ModelVersion,
    repository_url: str | None = None,
    served: ServedModel | None = None,
    pins: Callable[[str, bool], ArtifactPins] | None = None,
) -> Promotion:
    """Every key a promotion of ``config``'s stack to ``version`` writes.

    - ``mlstack:model.packageVersion``: the SageMaker endpoint serves the package.
    - With EKS: ``mlstack:kubernetes.modelArtifact`` (the package's ModelDataUrl),
      ``imageDigest`` (its image's digest) and ``modelVersion`` (the workload's label).
      When the artifact changes, its pins from ``pins(uri, with_sha256)`` (the S3 lookup,
      :func:`mlstack.models.artifact_pins.resolve_pins`): ``modelArtifactVersionId`` always,
      ``modelArtifactSha256`` when the stack pins by sha256 or by neither, so that the pods
      accept the new artifact. Default None: the pins are left as they are.
    - ``mlstack:monitoring.drift`` baselines whose path holds the current version
      (``v<N>``), moved to the new version.

    In a stack of many models, ``served`` is the model promoted: its own keys under
    ``mlstack:models.<name>`` are written (:meth:`ServedModel.key_path`) and no other
    model's. Edits whose value is already in place are left out. Raises :class:`PromotionError` when
    the package cannot be served on EKS (image not by digest or, when ``repository_url`` is
    known, not in the stack's repository; no ``.tar.gz`` artifact).
    """
    if served is not None:
        config = served.view

    def key(path: str) -> tuple[str, ...]:
        """A single-model key path (``kubernetes.imageDigest``) as this stack writes it."""
        head, *rest = (served.key_path(path) if served is not None else path).split(".")
        return (f"{PROJECT}:{head}", *rest)

    edits = [Edit(key(f"model.{VERSION_FIELD}"), version.version)]
    notes: list[str] = []
    if config.eks.enabled:
        serving = config.kubernetes
        problems: list[str] = []
        values: list[str] = []
        for resolve in (
            lambda: eks_artifact(version),
            lambda: eks_image_digest(version, repository_url),
        ):
            try:
                values.append(resolve())
            except PromotionError as err:
                problems.append(str(err))
        if problems:
            raise PromotionError("\n".join(problems))
        artifact, digest = values
        edits += [
            Edit(key("kubernetes.modelArtifact"), artifact),
            Edit(key("kubernetes.imageDigest"), digest),
            Edit(key("kubernetes.modelVersion"), version.version),
        ]
        current = {
            "modelArtifact": serving.model_artifact,
            "imageDigest": serving.image_digest,
            "modelVersion": serving.model_version,
        }
        edits = edits[:1] + [e for e in edits[1:] if current[e.key_path[-1]] != e.value]
        if pins is not None and artifact != serving.model_artifact:
            # Pinned by version id alone stays so; a sha256 pin, or none yet, gets a sha256.
            with_sha256 = (
                serving.model_artifact_sha256 is not None
                or serving.model_artifact_version_id is None
            )
            pinned = pins(artifact, with_sha256)
            edits.append(Edit(key("kubernetes.modelArtifactVersionId"), pinned.version_id))
            if pinned.sha256 is not None:
                edits.append(Edit(key("kubernetes.modelArtifactSha256"), pinned.sha256))
    drift = config.monitoring.drift
    old = config.model.package_version
    baselines = {
        "baselineStatisticsUri": drift.baseline_statistics_uri,
        "baselineConstraintsUri": drift.baseline_constraints_uri,
    }
    for field, uri in baselines.items():
        if uri is None or old is None or old == version.version:
            continue
        moved = versioned(uri, old, version.version)
        if moved is None:
            notes.append(
                f"{'.'.join(key(f'monitoring.drift.{field}'))} ({uri}) has no v{old} path segment: "
                "left as it is; check that the baseline fits the new version"
            )
        else:
            edits.append(Edit(key(f"monitoring.drift.{field}"), moved))
    if old == version.version:
        edits = edits[1:]
    return Promotion(edits, notes)
