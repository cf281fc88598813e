"""``mlstack:registry``: the image repository, model registry and artifacts bucket."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from infra.config.types import IamPrincipalArn, S3Prefix, SageMakerName, Section


class RegistryConfig(Section):
    """``mlstack:registry``: the image repository, model registry and artifacts bucket."""

    model_package_group_name: SageMakerName = "mlstack-models"
    """SageMaker model package group (the model registry), 1-63 letters, digits and hyphens.
    Default mlstack-models."""
    keep_tagged_images: Annotated[int, Field(ge=1, le=1000)] = 50
    """Release images kept in ECR; older ones are expired by the lifecycle policy (1-1000).
    Default 50."""
    untagged_image_expiry_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Days before untagged images (build leftovers) are expired (1-365). Default 7."""
    noncurrent_artifact_expiry_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days an overwritten model artifact version is kept in S3 (1-3650). Default 90."""
    kms_deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Days between scheduling the KMS key's deletion and its destruction (AWS allows 7-30).
    Default 30."""
    model_prefix: S3Prefix = "models"
    """Key prefix of model artifacts in the artifacts bucket. The bucket policy denies
    writing, overwriting, tagging or deleting objects under it to every principal but
    modelWriterArns. Default models."""
    model_writer_arns: Annotated[list[IamPrincipalArn], Field(max_length=20)] = []
    """IAM roles or users (0-20) that publish model artifacts under modelPrefix (the release
    pipeline), in the stack's account (mlstack:accountId) when it is set. Default none:
    nobody may write there until a writer is listed."""
    code_writer_arns: Annotated[list[IamPrincipalArn], Field(max_length=20)] = []
    """IAM roles or users (0-20) that upload the retraining pipelines' step scripts under
    each model's ``retraining.codePrefix`` (the stack's release role, an output of bootstrap/),
    in the stack's account (mlstack:accountId) when it is set. The bucket policy denies object
    writes there to every other principal, the deploy role included. Default none: nobody may
    write step scripts until a writer is listed."""
