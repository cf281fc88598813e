"""Convert a stack's AWS resources to Terraform JSON, so Terraform scanners (checkov) can read
a Pulumi program.

pulumi-aws is bridged from the Terraform AWS provider, so every resource and attribute maps
back:

- type tokens: ``aws:<module>/<member>:<Kind>`` is ``aws_<module>_<snake kind>``; the
  ``ec2`` module's resources drop the module (``aws:ec2/vpc:Vpc`` is ``aws_vpc``), and the few
  renamed ones are listed in :data:`TERRAFORM_TYPE_OVERRIDES`;
- attributes: each camelCase input's snake_case name and shape come from the pulumi-aws SDK's
  own input types (``pulumi.getter(name=...)`` and the type annotations), not from a
  hand-written table: an object is a Terraform block with at most one item, so it becomes a
  one-element list; a list of objects is a repeated block, whose Terraform name is singular
  where the bridge pluralised it (``encryptionConfigurations`` is ``encryption_configuration``)
  except for the blocks Terraform itself names in the plural (:data:`PLURAL_TERRAFORM_BLOCKS`);
- policy documents (JSON text) become objects, as ``jsonencode`` gives checkov in Terraform
  code;
- references: a value equal to another planned resource's id or ARN becomes a Terraform
  reference (``${aws_s3_bucket.artifacts.id}``), so graph checks (bucket and its public
  access block, VPC and its flow log) see the connection the program makes.

Resources that are not AWS resources are listed with the reason they are not converted
(components, providers, Kubernetes objects, which are scanned as manifests), never dropped
silently; an AWS type the SDK does not know is listed as unknown.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib
import json
import re
import typing
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import MockResourceArgs

from mlstack.offline.mocks import OfflineMocks
from mlstack.offline.plan import Plan, PlannedResource
from policy_pack.type_tokens import (
    AWS_NATIVE_PREFIX,
    EC2_TRANSIT_GATEWAY,
    IAM_OPENID_CONNECT_PROVIDER,
    KUBERNETES_PREFIX,
    S3_BUCKET_ENCRYPTION_V2,
    S3_BUCKET_LIFECYCLE_V2,
    S3_BUCKET_V2,
    S3_BUCKET_VERSIONING_V2,
)

TERRAFORM_TYPE_OVERRIDES: dict[str, str] = {
    S3_BUCKET_V2: "aws_s3_bucket",
    S3_BUCKET_VERSIONING_V2: "aws_s3_bucket_versioning",
    S3_BUCKET_ENCRYPTION_V2: ("aws_s3_bucket_server_side_encryption_configuration"),
    S3_BUCKET_LIFECYCLE_V2: ("aws_s3_bucket_lifecycle_configuration"),
    IAM_OPENID_CONNECT_PROVIDER: "aws_iam_openid_connect_provider",
    EC2_TRANSIT_GATEWAY: "aws_ec2_transit_gateway",
}
"""Resource types whose Terraform name does not follow the rule."""

EC2_MODULE_PREFIXED = ("transitGateway", "clientVpn", "host", "fleet", "capacityReservation")
"""ec2 members whose Terraform names keep the ``aws_ec2_`` prefix."""

PLURAL_TERRAFORM_BLOCKS = frozenset(
    {
        "alarms",
        "block_device_mappings",
        "capture_options",
        "egress",
        "ingress",
        "metrics",
        "monitoring_outputs",
        "network_interfaces",
        "production_variants",
        "shadow_production_variants",
        "tag_specifications",
        "stopping_conditions",
        "routing_config",
    }
)
"""Repeated blocks that Terraform already names in the plural (kept as they are)."""


POLICY_ATTRIBUTES = frozenset({"policy"})
"""Attributes holding a policy document that checkov reads only as an object."""

# ---------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------


def snake(name: str) -> str:
    """``kmsKeyArn`` -> ``kms_key_arn`` (for names the SDK does not describe)."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name).lower()


def terraform_type(type_token: str) -> str | None:
    """The Terraform resource type of a pulumi-aws type token; None for other providers."""
    if type_token in TERRAFORM_TYPE_OVERRIDES:
        return TERRAFORM_TYPE_OVERRIDES[type_token]
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    module, member = parts[1].split("/", 1)
    if module == "ec2" and not member.startswith(EC2_MODULE_PREFIXED):
        return f"aws_{snake(parts[2])}"
    return f"aws_{module}_{snake(parts[2])}"


# ---------------------------------------------------------------------------------------------
# Attribute shapes from the pulumi-aws SDK
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldShape:
    """How one input maps to Terraform: its name and whether it is a block."""

    terraform_name: str
    kind: str
    """``scalar``, ``map``, ``block`` (an object: one-item block) or ``blocks`` (a list)."""
    nested: type | None = None


def _main_type(annotation: Any) -> Any:
    """The first member of the SDK's ``Input[...]`` union: the plain value type."""
    while typing.get_origin(annotation) is typing.Union:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _forward_name(annotation: Any) -> str | None:
    annotation = _main_type(annotation)
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    if isinstance(annotation, str):
        return annotation
    return None


def _resolve(module: str, name: str) -> type | None:
    for path in (f"{module}._inputs", module, "pulumi_aws._inputs"):
        try:
            found = getattr(importlib.import_module(path), name, None)
        except ImportError:
            continue
        if isinstance(found, type):
            return found
    return None


def _singular(name: str) -> str:
    if name in PLURAL_TERRAFORM_BLOCKS or not name.endswith("s"):
        return name
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1]


@functools.cache
def shapes(cls: type) -> dict[str, FieldShape]:
    """camelCase input name -> Terraform shape, for one pulumi-aws input type."""
    module = cls.__module__.rsplit(".", 1)[0] if cls.__module__.endswith("_inputs") else None
    module = module or cls.__module__.rsplit(".", 1)[0]
    found: dict[str, FieldShape] = {}
    for attribute, value in vars(cls).items():
        if not isinstance(value, property) or value.fget is None:
            continue
        engine_name = getattr(value.fget, "_pulumi_name", None)
        if not engine_name:
            continue
        annotation = _main_type(value.fget.__annotations__.get("return"))
        origin = typing.get_origin(annotation)
        if origin is collections.abc.Sequence:
            inner = _forward_name(typing.get_args(annotation)[0])
            nested = _resolve(module, inner) if inner and inner.endswith("Args") else None
            if nested is not None:
                found[engine_name] = FieldShape(_singular(attribute), "blocks", nested)
                continue
            found[engine_name] = FieldShape(attribute, "scalar")
        elif origin is collections.abc.Mapping:
            found[engine_name] = FieldShape(attribute, "map")
        else:
            name = _forward_name(annotation)
            nested = _resolve(module, name) if name and name.endswith("Args") else None
            kind = "block" if nested is not None else "scalar"
            found[engine_name] = FieldShape(attribute, kind, nested)
    return found


def args_class(type_token: str) -> type | None:
    """The pulumi-aws ``<Kind>Args`` input type of a resource type token, or None."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    module = parts[1].split("/", 1)[0]
    try:
        package = importlib.import_module(f"pulumi_aws.{module}")
    except ImportError:
        return None
    resource_class = getattr(package, parts[2], None)
    if not isinstance(resource_class, type):
        return None
    # The resource's own module holds its args type; the SDK names it ``<Kind>InitArgs``
    # where ``<Kind>Args`` is taken by a nested input type of another resource.
    module = importlib.import_module(resource_class.__module__)
    for name in (f"{parts[2]}InitArgs", f"{parts[2]}Args"):
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls
    return None


# ---------------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------------


@dataclass
class Conversion:
    """A stack as Terraform JSON, and what was not converted and why."""

    document: dict[str, Any]
    converted: dict[str, str] = field(default_factory=dict)
    """URN -> Terraform address (``aws_sns_topic.alarms``)."""
    not_converted: list[tuple[str, str, str]] = field(default_factory=list)
    """(type token, logical name, reason) of every planned resource left out."""

    def unknown_types(self) -> list[str]:
        """AWS types the converter could not map (should stay empty)."""
        return sorted({t for t, _, reason in self.not_converted if reason.startswith("unknown")})


def _convert_value(value: Any, shape: FieldShape | None, refs: dict[str, str]) -> Any:
    if shape is not None and shape.kind == "block":
        items = value if isinstance(value, list) else [value]
        return [_convert_object(v, shape.nested, refs) for v in items if isinstance(v, dict)]
    if shape is not None and shape.kind == "blocks":
        return [_convert_object(v, shape.nested, refs) for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return {k: _convert_value(v, None, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert_value(v, None, refs) for v in value]
    if isinstance(value, str):
        return refs.get(value, value)
    return value


def _policy_document(value: str) -> dict[str, Any] | None:
    """An IAM/resource policy given as JSON text, parsed: Terraform code passes policies
    through ``jsonencode`` and checkov reads them as objects (a string is "unknown" to it)."""
    if not value.startswith("{") or '"Statement"' not in value:
        return None
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _convert_object(inputs: dict[str, Any], cls: type | None, refs: dict[str, str]) -> dict:
    known = shapes(cls) if cls is not None else {}
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if value is None:
            continue
        shape = known.get(key)
        name = shape.terraform_name if shape else snake(key)
        parsed = _policy_document(value) if name in POLICY_ATTRIBUTES else None
        converted = parsed if parsed is not None else _convert_value(value, shape, refs)
        if shape is not None and shape.kind in ("block", "blocks") and not converted:
            continue
        out[name] = converted
    return out


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not re.match(r"[A-Za-z_]", base):
        base = f"r_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _reason(resource: PlannedResource) -> str | None:
    if not resource.custom:
        return "component (declares no cloud resource itself)"
    if resource.type.startswith("pulumi:providers:"):
        return "provider configuration"
    if resource.type.startswith(KUBERNETES_PREFIX):
        return "Kubernetes object (scanned as a rendered manifest)"
    if resource.type.startswith(AWS_NATIVE_PREFIX):
        return "pulumi-aws-native resource (scanned as CloudFormation)"
    if terraform_type(resource.type) is None:
        return "unknown: not a pulumi-aws resource type"
    if args_class(resource.type) is None:
        return "unknown: pulumi-aws SDK has no input type for it"
    return None


def convert_plan(plan: Plan) -> Conversion:
    """Every AWS resource of a plan as one Terraform JSON document."""
    mocks = OfflineMocks(region=plan.config.get("aws:region", "us-east-1"))
    conversion = Conversion(document={"resource": {}})
    addresses: dict[str, tuple[str, str]] = {}
    candidates: dict[str, set[str]] = {}
    taken: dict[str, set[str]] = {}
    for resource in plan.resources:
        reason = _reason(resource)
        if reason is not None:
            conversion.not_converted.append((resource.type, resource.name, reason))
            continue
        tf_type = str(terraform_type(resource.type))
        tf_name = _identifier(resource.name, taken.setdefault(tf_type, set()))
        addresses[resource.urn] = (tf_type, tf_name)
        resource_id, state = mocks.new_resource(
            MockResourceArgs(resource.type, resource.name, dict(resource.inputs), custom=True)
        )
        if resource_id:
            candidates.setdefault(str(resource_id), set()).add(f"${{{tf_type}.{tf_name}.id}}")
        if isinstance(state.get("arn"), str):
            candidates.setdefault(state["arn"], set()).add(f"${{{tf_type}.{tf_name}.arn}}")
    # Only a value that identifies exactly one resource is a reference: an endpoint and a
    # cluster may share a name without one pointing at the other.
    refs = {value: next(iter(found)) for value, found in candidates.items() if len(found) == 1}
    for resource in plan.resources:
        if resource.urn not in addresses:
            continue
        tf_type, tf_name = addresses[resource.urn]
        own = {k: v for k, v in refs.items() if not v.startswith(f"${{{tf_type}.{tf_name}.")}
        body = _convert_object(dict(resource.inputs), args_class(resource.type), own)
        conversion.document["resource"].setdefault(tf_type, {})[tf_name] = body
        conversion.converted[resource.urn] = f"{tf_type}.{tf_name}"
    return conversion
