"""boto3 clients with short timeouts, and the one place AWS failures become short messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from mlstack.service_models import new_session

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 65
"""SageMaker answers an invocation within 60 s or fails it; a little more for the network."""
MAX_ATTEMPTS = 3
"""Total attempts per call (standard retry mode: throttling and transient errors)."""


class AwsError(Exception):
    """An AWS call failed or returned something unusable; the message is user-facing."""


class AwsSetupError(AwsError):
    """The local AWS settings are incomplete (no region): the user fixes them, not AWS."""


def client(service: str, region: str | None = None) -> Any:
    """A client for ``service`` from the standard AWS settings, read anew for each client
    (the service's model is parsed once per process: :mod:`mlstack.service_models`).

    ``region`` wins over ``AWS_DEFAULT_REGION`` / the profile's region.
    ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_<SERVICE>``) redirects the calls.
    """
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    try:
        return new_session().client(service, region_name=region, config=config)
    except NoRegionError:
        raise AwsSetupError(
            "no AWS region: set AWS_DEFAULT_REGION (or aws:region in the stack file, or --region)"
        ) from None


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Turn any AWS failure inside the block into :class:`AwsError` naming ``what``."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsError(
            f"{what}: no AWS credentials (set AWS_PROFILE, or assume a role first)"
        ) from None
    except (BotoConnectionError, HTTPClientError) as err:
        raise AwsError(f"{what}: cannot reach AWS: {err}") from None
    except ClientError as err:
        message = err.response.get("Error", {}).get("Message", str(err))
        raise AwsError(f"{what}: {error_code(err)}: {message}") from None
    except BotoCoreError as err:
        raise AwsError(f"{what}: {err}") from None
