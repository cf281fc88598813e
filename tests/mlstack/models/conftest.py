"""A real moto server on 127.0.0.1 for the AWS tooling tests, and the environment that
points boto3 at it (fake credentials, ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import make_project_copy

REGION = "us-east-1"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/registry-repository"
DIGEST = "sha256:" + "5" * 64
IMAGE = f"{REPOSITORY}@{DIGEST}"
SHIPPED_DIGEST = "sha256:d638e3b111b9f11c273400aa1afc8f8d94ce2f03a0fdb3643f5b610bc2bf566e"
ARTIFACT = "s3://mlstack-artifacts/models/churn-classifier/v5/model.tar.gz"
ARTIFACT_BODY = b"model.tar.gz of churn-classifier v5\n" * 40_000
"""About 1.4 MB: more than one chunk of the streamed sha256."""
STARTUP_DEADLINE_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``moto_server`` as a subprocess for the session; stopped by its PID."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = Path(sys.executable).parent / "moto_server"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Every boto3 client of the test talks to the moto server, with fake credentials."""
    return point_at_moto(moto_url, monkeypatch, tmp_path)


def point_at_moto(moto_url: str, monkeypatch: pytest.MonkeyPatch, home: Path) -> str:
    """Set the environment so that boto3 talks to ``moto_url`` with fake credentials (no
    profile, config or credentials file of the machine: files under ``home`` that do not
    exist)."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "MLSTACK_ENDPOINT_NAME",
        "MLSTACK_REPOSITORY_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials"))
    return moto_url


@pytest.fixture
def sagemaker(aws_env: str) -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def unique(prefix: str) -> str:
    """A name no other test uses (the moto server lives for the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def group(sagemaker: Any) -> str:
    """A fresh, empty model package group."""
    name = unique("churn")
    sagemaker.create_model_package_group(ModelPackageGroupName=name)
    return name


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project copy whose stack files a test may promote."""
    return make_project_copy(tmp_path / "project")


def reset_moto(moto_url: str) -> None:
    """Forget every resource and cached answer of the server."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def queue_endpoint_result(moto_url: str, body: dict[str, Any] | str) -> None:
    """Make moto's sagemaker-runtime answer the next new invocation with ``body``."""
    payload = {
        "results": [
            {
                "Body": body if isinstance(body, str) else json.dumps(body),
                "ContentType": "application/json",
                "InvokedProductionVariant": "primary",
                "CustomAttributes": "",
            }
        ]
    }
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201


def upload_artifact(
    uri: str = ARTIFACT, body: bytes = ARTIFACT_BODY, versioning: bool = True
) -> str | None:
    """Put ``body`` at ``uri`` in a bucket with versioning on (or off); its VersionId."""
    s3 = boto3.client("s3", region_name=REGION)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3.create_bucket(Bucket=bucket)
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version_id: str | None = s3.put_object(Bucket=bucket, Key=key, Body=body).get("VersionId")
    return version_id


def add_versions(
    sagemaker: Any,
    group: str,
    count: int,
    image: str = IMAGE,
    upload: bool = True,
    artifact: str = ARTIFACT,
) -> list[str]:
    """``count`` versions of ``group`` whose artifact is ``artifact``; :data:`ARTIFACT` is
    uploaded to a versioned bucket unless ``upload`` is false."""
    if upload:
        upload_artifact()
    return [
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": image, "ModelDataUrl": artifact}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        )["ModelPackageArn"]
        for _ in range(count)
    ]


@pytest.fixture
def approved_v5(sagemaker: Any, group: str) -> str:
    """``group`` holds versions 1-5; version 5 is approved."""
    arns = add_versions(sagemaker, group, 5)
    sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
    return group
