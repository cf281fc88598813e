"""The pins of a model artifact in S3: its object version and its sha256, read once at
promotion so that the offline plan, and the init container that verifies them, need no
S3 access to know which file the pods may serve."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mlstack.models.aws import AwsError, calling, error_code

CHUNK_BYTES = 1024 * 1024
"""Bytes read at a time while hashing (1 MiB): memory stays bounded for any artifact size."""
MISSING = ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


@dataclass(frozen=True)
class ArtifactPins:
    """``version_id``: the S3 VersionId of the object; ``sha256``: its hex digest, or None
    when not asked for."""

    version_id: str
    sha256: str | None


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as ``(bucket, key)``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def resolve_pins(s3: Any, uri: str, with_sha256: bool) -> ArtifactPins:
    """The current version of the object at ``uri`` and, when ``with_sha256``, its sha256
    (of exactly that version, streamed in :data:`CHUNK_BYTES` chunks).

    Raises :class:`AwsError` when the object does not exist or its bucket keeps no
    versions (no VersionId to pin).
    """
    bucket, key = split_uri(uri)
    with calling(f"reading {uri}"):
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if error_code(err) in MISSING:
                raise AwsError(
                    f"the model artifact {uri} does not exist: upload it there, or register "
                    "a version whose --artifact is the uploaded object"
                ) from None
            raise
        version_id = head.get("VersionId")
        if not version_id or version_id == "null":
            raise AwsError(
                f"the model artifact {uri} has no S3 version id (versioning is off on bucket "
                f"'{bucket}'): enable versioning on the bucket (mlstack's artifacts bucket "
                "has it), then upload the artifact again"
            )
        digest: str | None = None
        if with_sha256:
            body = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"]
            hasher = hashlib.sha256()
            try:
                for chunk in body.iter_chunks(CHUNK_BYTES):
                    hasher.update(chunk)
            finally:
                body.close()
            digest = hasher.hexdigest()
    return ArtifactPins(version_id, digest)
