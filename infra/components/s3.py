"""S3 locations: the one place that reads "an ``s3://`` URI, or a key in the artifacts bucket"."""

from __future__ import annotations

import pulumi

from infra.components.interpolation import concat

S3_SCHEME = "s3://"


def bucket_and_key(
    key_or_uri: str, default_bucket: pulumi.Input[str]
) -> tuple[pulumi.Input[str], str]:
    """``(bucket, key)`` of ``key_or_uri``: an ``s3://bucket/key`` URI, or a bare key in
    ``default_bucket``."""
    if key_or_uri.startswith(S3_SCHEME):
        bucket, _, key = key_or_uri.removeprefix(S3_SCHEME).partition("/")
        return bucket, key
    return default_bucket, key_or_uri


def s3_uri(bucket: pulumi.Input[str], key_or_uri: str) -> pulumi.Output[str]:
    """``key_or_uri`` as an ``s3://`` URI; a bare key is relative to ``bucket``."""
    located_bucket, key = bucket_and_key(key_or_uri, bucket)
    return concat(S3_SCHEME, located_bucket, "/", key)


def object_arn(
    partition: pulumi.Input[str], bucket: pulumi.Input[str], key: str = ""
) -> pulumi.Output[str]:
    """ARN of an object (or, with ``key`` empty, of the bucket) in ``partition``."""
    suffix = f"/{key}" if key else ""
    return concat("arn:", partition, ":s3:::", bucket, suffix)
