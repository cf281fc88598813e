"""The base of every config section and the constrained types the sections share.

Every rule about the shape of a single value lives here once: a type names what it accepts
in words (the message a user reads), and carries a JSON Schema for editors. Messages never
show a regular expression.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

SECRET_PLACEHOLDER = "[secret]"
"""What a ``secure:`` value reads as in the offline plan, which cannot decrypt it. Only keys
that carry a credential accept it (see :attr:`Section.secret_fields`)."""

SECRET_FINGERPRINT = re.compile(r"\[secret:(?:secure-)?[0-9a-f]{16}\]")
"""The placeholder with a keyed fingerprint, ``[secret:<16 hex>]`` for a plaintext value and
``[secret:secure-<16 hex>]`` for a ``secure:`` ciphertext: the offline plan compares secrets by
it (see ``mlstack/offline/secrets.py``). Accepted wherever :data:`SECRET_PLACEHOLDER` is."""


def is_secret_placeholder(value: Any) -> bool:
    """``[secret]`` or a fingerprinted ``[secret:<fingerprint>]``."""
    return isinstance(value, str) and (
        value == SECRET_PLACEHOLDER or SECRET_FINGERPRINT.fullmatch(value) is not None
    )


SECRET_KEYS = ("monitoring.httpsSubscriptions",)
"""The only config keys that may be given as ``secure:`` values: webhook URLs carry tokens."""

NOT_A_SECRET = (
    "this key is not a secret: write the value in plain text "
    f"(secure: is only for {', '.join(SECRET_KEYS)})"
)


class FieldError(ValueError):
    """Raised inside validators to point at a key other than the one being validated."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.path = path
        self.value = value
        self.allowed = allowed


class FieldErrors(ValueError):
    """Several :class:`FieldError` found by one validator, reported together."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(e.allowed for e in self.errors))


def raise_all(errors: list[FieldError]) -> None:
    """Raise every problem a validator found at once (nothing when the list is empty)."""
    if errors:
        raise FieldErrors(errors)


def _holds_placeholder(value: Any) -> bool:
    if is_secret_placeholder(value):
        return True
    return isinstance(value, list) and any(is_secret_placeholder(item) for item in value)


class Section(BaseModel):
    """Base for every config object: frozen, camelCase keys, unknown keys rejected, field
    descriptions taken from the attribute docstrings."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
        use_attribute_docstrings=True,
    )

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields (snake_case) that may hold a ``secure:`` value; everywhere else it is refused."""

    @field_validator("*", mode="wrap")
    @classmethod
    def _refuse_misplaced_secrets(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        if info.field_name not in cls.secret_fields and _holds_placeholder(value):
            raise ValueError(NOT_A_SECRET)
        return handler(value)


# ---------------------------------------------------------------------------------------------
# Strings described in words
# ---------------------------------------------------------------------------------------------


def worded(pattern: str, words: str, *, secret: bool = False) -> Any:
    """A string type that must match ``pattern``; the error is ``words``, never the pattern.

    With ``secret`` the offline placeholder of a ``secure:`` value is accepted too."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if secret and is_secret_placeholder(value):
            return value
        if not compiled.fullmatch(value):
            raise ValueError(words)
        return value

    return Annotated[
        str,
        AfterValidator(check),
        WithJsonSchema({"type": "string", "pattern": f"^(?:{pattern})$", "description": words}),
    ]


def one_of(choices: Callable[[], Iterable[str]], words: str) -> Any:
    """A string from a list known only at run time (e.g. botocore's data)."""

    def check(value: str) -> str:
        allowed = set(choices())
        if value in allowed:
            return value
        if value.lower() in allowed:
            raise ValueError(f"write it in lower case: {value.lower()}")
        raise ValueError(words)

    return Annotated[
        str,
        AfterValidator(check),
        # Words, not the list: the list follows the installed botocore, the schema must not.
        WithJsonSchema({"type": "string", "description": words}),
    ]


def _botocore_data() -> Path:
    # botocore ships AWS's own lists (regions, instance types) as data files. They are read
    # directly: the program must not import the AWS SDK (a plan needs no boto3 or botocore).
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise RuntimeError("botocore is not installed: it provides the AWS region list")
    return Path(spec.origin).parent / "data"


def _read_json(path: Path) -> Any:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    with gzip.open(path.with_name(path.name + ".gz"), "rt", encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def aws_regions() -> tuple[str, ...]:
    """Every region of every partition in the endpoint data botocore ships (offline)."""
    data = _read_json(_botocore_data() / "endpoints.json")
    return tuple(
        sorted(region for partition in data["partitions"] for region in partition["regions"])
    )


@functools.cache
def _service_enum(service: str, shape: str) -> tuple[str, ...]:
    """An enum of a service model (the newest API version botocore ships)."""
    folder = _botocore_data() / service
    version = max(p.name for p in folder.iterdir() if p.is_dir())
    model = _read_json(folder / version / "service-2.json")
    return tuple(model["shapes"][shape]["enum"])


def sagemaker_endpoint_instance_types() -> tuple[str, ...]:
    """Instance types a SageMaker endpoint variant accepts (ProductionVariantInstanceType)."""
    return _service_enum("sagemaker", "ProductionVariantInstanceType")


def sagemaker_processing_instance_types() -> tuple[str, ...]:
    """Instance types a SageMaker processing (Model Monitor) job accepts."""
    return _service_enum("sagemaker", "ProcessingInstanceType")


def ec2_instance_types() -> tuple[str, ...]:
    """EC2 instance types (botocore's EC2 service model)."""
    return _service_enum("ec2", "InstanceType")


Region = one_of(aws_regions, "an AWS region that exists, in lower case, e.g. us-east-1")
SageMakerInstanceType = one_of(
    sagemaker_endpoint_instance_types,
    "an instance type SageMaker endpoints offer, e.g. ml.m5.large",
)
ProcessingInstanceType = one_of(
    sagemaker_processing_instance_types,
    "an instance type SageMaker processing jobs offer, e.g. ml.m5.large",
)
Ec2InstanceType = one_of(ec2_instance_types, "an EC2 instance type, e.g. m6i.large")

SageMakerName = worded(
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
    "a name is 1-63 letters, digits and hyphens, starting and ending with a letter or digit",
)
"""SageMaker resource names (endpoints, variants, model package groups)."""
AccountId = worded(r"[0-9]{12}", 'an AWS account ID is 12 digits, quoted: "123456789012"')
EcrImageUri = worded(
    r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+"
    r"(:[\w.-]+|@sha256:[0-9a-f]{64})",
    "an ECR image with a tag or digest, "
    "e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1.0",
)
ImageReference = worded(
    r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
    "an image with a registry host and a tag, e.g. public.ecr.aws/aws-cli/aws-cli:2.27.9",
)
ImageDigest = worded(
    r"sha256:[0-9a-f]{64}", "an image digest: sha256: and 64 lower-case hex digits"
)
ImageTag = worded(
    r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
    "an image tag: 1-128 letters, digits, _ . -, not starting with . or -",
)
S3Uri = worded(
    r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", "an s3:// URI, e.g. s3://bucket/model.tar.gz"
)
S3Key = worded(
    r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|[A-Za-z0-9!_.*'()/-]+",
    "a key in the artifacts bucket (letters, digits, / ! _ . * ' ( ) -) or an s3:// URI",
)
S3Prefix = worded(
    r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*",
    "a key prefix: letters, digits, _ . - separated by single slashes, no leading slash",
)
Sha256Hex = worded(r"[0-9a-f]{64}", "a sha256 digest: 64 lower-case hex digits, without sha256:")
"""A file's sha256 as ``sha256sum`` prints it."""
S3VersionId = worded(
    r"(?!null$)[A-Za-z0-9._+/=-]{1,1024}",
    "an S3 version id (1-1024 letters, digits and . _ + / = -, not null): "
    "aws s3api head-object --bucket B --key K prints it",
)
"""An object version id of a versioned bucket; ``null`` (an object written before
versioning) pins nothing."""
LabelKey = worded(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
    "a Kubernetes label key, e.g. app.kubernetes.io/name",
)
LabelValue = worded(
    r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?",
    "a Kubernetes label value: up to 63 letters, digits, - _ ., starting and ending with a "
    "letter or digit",
)
Cidr = worded(r"([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}", "an IPv4 CIDR block, e.g. 10.0.0.0/16")
IamPrincipalArn = worded(
    r"arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@/_-]+",
    "an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/deployer",
)
DnsLabel = worded(
    r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?",
    "1-40 lower-case letters, digits and hyphens, starting and ending with a letter or digit",
)
"""A Kubernetes object name usable as a label value and in derived names."""
NamespaceName = worded(
    r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
    "a Kubernetes namespace: 1-63 lower-case letters, digits and hyphens, starting and ending "
    "with a letter or digit",
)
Email = worded(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address, e.g. oncall@example.com")
HttpUrl = worded(r"https?://[^\s]+", "an http:// or https:// URL")
HttpsUrl = worded(
    r"https://[^\s]+", "an https:// URL (give it as secure: when it holds a token)", secret=True
)
FeatureName = worded(r"[A-Za-z0-9_.-]{1,128}", "a feature name: 1-128 letters, digits, _ . -")

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?")
_SUFFIX = {
    None: 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
QUANTITY_WORDS = "a Kubernetes quantity such as 500m, 2 or 1Gi (suffixes m, k, M, G, Ki, Mi, Gi)"


def quantity_value(text: str) -> Decimal:
    """A Kubernetes quantity (``500m``, ``2``, ``1Gi``) as a number of base units."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(QUANTITY_WORDS)
    try:
        return Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2)])
    except InvalidOperation:
        raise ValueError(QUANTITY_WORDS) from None


def _check_quantity(value: str) -> str:
    quantity_value(value)
    return value


Quantity = Annotated[
    str,
    AfterValidator(_check_quantity),
    WithJsonSchema({"type": "string", "pattern": f"^{_QUANTITY.pattern}$"}),
]

LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""Retention periods CloudWatch Logs accepts, in days."""


def _check_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            "a CloudWatch retention in days: " + ", ".join(map(str, LOG_RETENTION_DAYS))
        )
    return value


LogRetentionDays = Annotated[
    int,
    AfterValidator(_check_retention),
    WithJsonSchema({"type": "integer", "enum": list(LOG_RETENTION_DAYS)}),
]
"""Days a CloudWatch log group keeps events: one of :data:`LOG_RETENTION_DAYS`."""

TAG_KEY_WORDS = "1-128 letters (any language), digits, spaces and _ . : / = + - @, not aws:"
TAG_VALUE_WORDS = "0-256 letters (any language), digits, spaces and _ . : / = + - @"
_TAG_CHARS = re.compile(r"[\w\s.:/=+\-@]*")
MAX_TAGS = 50
"""Tags AWS allows on one resource, the kit's own included."""


def tag_problem(key: str, value: str) -> str | None:
    """What is wrong with one AWS tag, in words, or None when AWS accepts it."""
    if not 1 <= len(key) <= 128 or key.lower().startswith("aws:") or not _TAG_CHARS.fullmatch(key):
        return f"a tag key is {TAG_KEY_WORDS}"
    if len(value) > 256 or not _TAG_CHARS.fullmatch(value):
        return f"a tag value is {TAG_VALUE_WORDS}"
    return None


def sagemaker_training_instance_types() -> tuple[str, ...]:
    """Instance types a SageMaker training job accepts (TrainingInstanceType)."""
    return _service_enum("sagemaker", "TrainingInstanceType")


def sagemaker_transform_instance_types() -> tuple[str, ...]:
    """Instance types a SageMaker batch transform job accepts (TransformInstanceType)."""
    return _service_enum("sagemaker", "TransformInstanceType")


TrainingInstanceType = one_of(
    sagemaker_training_instance_types,
    "an instance type SageMaker training jobs offer, e.g. ml.m5.xlarge",
)
TransformInstanceType = one_of(
    sagemaker_transform_instance_types,
    "an instance type SageMaker batch transform offers, e.g. ml.m5.large",
)
ScheduleExpression = worded(
    r"cron\([^()]+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)",
    "an EventBridge Scheduler expression: cron(minutes hours day-of-month month "
    "day-of-week year) or rate(N hours), e.g. cron(0 3 ? * SUN *)",
)
MetricName = worded(
    r"[A-Za-z][A-Za-z0-9_.-]{0,63}", "a metric name: a letter, then letters, digits, _ . -"
)
