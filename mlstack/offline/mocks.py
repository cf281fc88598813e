"""Canned cloud answers for the offline plan, and a monitor that records every registration.

The offline plan never reaches AWS. Wherever the program reads a fact from the cloud, the
answer below stands in; each one is documented so a reader of a plan knows which values are
real inputs and which are canned:

- ``aws:index/getCallerIdentity``: account :data:`ACCOUNT_ID`, a ``mlstack-plan`` user;
- ``aws:index/getRegion``: the stack's ``aws:region``;
- ``aws:index/getPartition``: ``aws`` / ``amazonaws.com``;
- ``aws:index/getAvailabilityZones``: ``<region>a``, ``<region>b``, ``<region>c``;
- ``aws:sagemaker/getPrebuiltEcrImage``: ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``
  with the account SageMaker publishes that image from (:data:`PREBUILT_IMAGE_ACCOUNTS`).

Resources come back with their inputs plus the outputs AWS would compute: an ``arn`` in the
service's format, a physical name where the provider auto-names (logical name plus a
7-character suffix derived from the URN, so plans are reproducible), and a few type-specific
outputs (ECR repository URL, EKS endpoint and OIDC issuer, ...). EC2 resources get IDs in
AWS's format (:data:`EC2_ID_PREFIX`, e.g. ``subnet-<17 hex>``); an IAM OIDC provider's ARN
is built from its issuer URL; a launch template is at version 1; a gateway endpoint's prefix
list holds :data:`S3_PREFIX_LIST_CIDRS`. Kubernetes objects (and Helm releases) come back
with their inputs. aws-native resources (the CloudFormation-based provider: inference
components, Model Monitor job definitions) come back with their inputs, the ARN under the
property the provider names it (``inferenceComponentArn``, ``jobDefinitionArn``) and the
status AWS reports when it is ready; they have no ``tagsAll``. An invoke without a canned
answer fails the plan, naming the token, instead of returning nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor, _resolve_callbacks
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

from mlstack.offline.plan import PlannedResource, ResourceOptionsRecord, to_plain
from policy_pack.type_tokens import (
    APPAUTOSCALING_POLICY,
    AWS_NATIVE_PREFIX,
    CLOUDWATCH_DASHBOARD,
    CLOUDWATCH_EVENT_RULE,
    CLOUDWATCH_LOG_GROUP,
    CLOUDWATCH_METRIC_ALARM,
    EC2_DEFAULT_SECURITY_GROUP,
    EC2_EIP,
    EC2_FLOW_LOG,
    EC2_INTERNET_GATEWAY,
    EC2_LAUNCH_TEMPLATE,
    EC2_NAT_GATEWAY,
    EC2_ROUTE_TABLE,
    EC2_SECURITY_GROUP,
    EC2_SUBNET,
    EC2_VPC,
    EC2_VPC_ENDPOINT,
    ECR_REPOSITORY,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    IAM_OPENID_CONNECT_PROVIDER,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    KMS_ALIAS,
    KMS_KEY,
    KUBERNETES_HELM_PREFIX,
    KUBERNETES_PREFIX,
    S3_BUCKET,
    S3_BUCKET_TYPES,
    S3_BUCKET_V2,
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_INFERENCE_COMPONENT,
    SAGEMAKER_MODEL,
    SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION,
    SAGEMAKER_MODEL_PACKAGE_GROUP,
    SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION,
    SAGEMAKER_MONITORING_SCHEDULE,
    SAGEMAKER_PIPELINE,
    SCHEDULER_SCHEDULE,
    SNS_TOPIC,
)

ACCOUNT_ID = "123456789012"
"""The AWS account every offline plan pretends to run in (AWS's documentation example)."""

PREBUILT_IMAGE_ACCOUNTS: dict[str, dict[str, str]] = {
    # SageMaker's own registries for Model Monitor's analyzer image, per region.
    # SageMaker Clarify's processing image (model explainability), per region.
    "sagemaker-clarify-processing": {
        "us-east-1": "205585389593",
        "us-east-2": "211330385671",
        "us-west-1": "740489534195",
        "us-west-2": "306415355426",
        "eu-west-1": "131013547314",
        "eu-central-1": "017069133835",
    },
    "sagemaker-model-monitor-analyzer": {
        "us-east-1": "156813124566",
        "us-east-2": "777275614652",
        "us-west-1": "890145073186",
        "us-west-2": "159807026194",
        "eu-west-1": "468650794304",
        "eu-central-1": "048819808253",
    },
}
S3_PREFIX_LIST_CIDRS = ("3.5.0.0/19", "52.216.0.0/15", "54.231.0.0/16")
"""Ranges of a gateway endpoint's prefix list (S3's in us-east-1, abridged), in every region."""
FALLBACK_PREBUILT_ACCOUNT = "000000000000"
"""Account shown for a prebuilt image whose registry account is not in the table above."""


class UnknownInvokeError(Exception):
    """The program called a data source that has no canned answer."""


def _suffix(*parts: str) -> str:
    return hashlib.sha256("::".join(parts).encode()).hexdigest()[:7]


def physical_name(type_token: str, name: str) -> str:
    """The name the offline plan gives an auto-named resource: its logical name, a dash and
    seven hex characters (as Pulumi's auto-naming appends seven random ones)."""
    return f"{name}-{_suffix(type_token, name)}"


# Property the provider fills with an auto-generated physical name, per resource type.
AUTONAME_PROPERTY: dict[str, str] = {
    S3_BUCKET: "bucket",
    S3_BUCKET_V2: "bucket",
    SAGEMAKER_MODEL_PACKAGE_GROUP: "modelPackageGroupName",
    SAGEMAKER_MONITORING_SCHEDULE: "name",
    CLOUDWATCH_DASHBOARD: "dashboardName",
    APPAUTOSCALING_POLICY: "name",
    ECR_REPOSITORY: "name",
    IAM_ROLE: "name",
    IAM_POLICY: "name",
    IAM_ROLE_POLICY: "name",
    SNS_TOPIC: "name",
    CLOUDWATCH_METRIC_ALARM: "name",
    CLOUDWATCH_LOG_GROUP: "name",
    SAGEMAKER_MODEL: "name",
    SAGEMAKER_ENDPOINT_CONFIGURATION: "name",
    SAGEMAKER_ENDPOINT: "name",
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION: "name",
    EKS_CLUSTER: "name",
    EKS_NODE_GROUP: "nodeGroupName",
    EC2_LAUNCH_TEMPLATE: "name",
    EC2_SECURITY_GROUP: "name",
    KMS_ALIAS: "name",
    SCHEDULER_SCHEDULE: "name",
    SAGEMAKER_PIPELINE: "pipelineName",
    CLOUDWATCH_EVENT_RULE: "name",
    # pulumi-aws-native (CloudControl) resources name themselves the same way.
    SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION: "jobDefinitionName",
    SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION: "jobDefinitionName",
    SAGEMAKER_INFERENCE_COMPONENT: "inferenceComponentName",
}

# aws-native resources: the output holding the ARN, and what AWS reports once it is ready.
AWS_NATIVE_OUTPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    SAGEMAKER_INFERENCE_COMPONENT: (
        "inferenceComponentArn",
        {"inferenceComponentStatus": "InService"},
    ),
    SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION: (
        "jobDefinitionArn",
        {"creationTime": "2026-01-01T00:00:00Z"},
    ),
    SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION: (
        "jobDefinitionArn",
        {"creationTime": "2026-01-01T00:00:00Z"},
    ),
}

# EC2 resources get IDs in AWS's format (``<prefix>-<17 hex digits>``) instead of a name,
# so subnet, security group and VPC IDs read in a plan as they would in the console.
EC2_ID_PREFIX: dict[str, str] = {
    EC2_VPC: "vpc",
    EC2_SUBNET: "subnet",
    EC2_SECURITY_GROUP: "sg",
    EC2_DEFAULT_SECURITY_GROUP: "sg",
    EC2_INTERNET_GATEWAY: "igw",
    EC2_NAT_GATEWAY: "nat",
    EC2_EIP: "eipalloc",
    EC2_ROUTE_TABLE: "rtb",
    EC2_VPC_ENDPOINT: "vpce",
    EC2_FLOW_LOG: "fl",
    EC2_LAUNCH_TEMPLATE: "lt",
}

# ARN resource part per type when it is not "<kind>/<name>".
_ARN_FORMATS: dict[str, str] = {
    S3_BUCKET: "arn:aws:s3:::{name}",
    S3_BUCKET_V2: "arn:aws:s3:::{name}",
    IAM_ROLE: "arn:aws:iam::{account}:role/{name}",
    IAM_POLICY: "arn:aws:iam::{account}:policy/{name}",
    IAM_OPENID_CONNECT_PROVIDER: ("arn:aws:iam::{account}:oidc-provider/{name}"),
    KMS_KEY: "arn:aws:kms:{region}:{account}:key/{id}",
    SNS_TOPIC: "arn:aws:sns:{region}:{account}:{name}",
    CLOUDWATCH_METRIC_ALARM: "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    CLOUDWATCH_LOG_GROUP: "arn:aws:logs:{region}:{account}:log-group:{name}",
    ECR_REPOSITORY: "arn:aws:ecr:{region}:{account}:repository/{name}",
    SAGEMAKER_MODEL_PACKAGE_GROUP: (
        "arn:aws:sagemaker:{region}:{account}:model-package-group/{name}"
    ),
    SAGEMAKER_ENDPOINT_CONFIGURATION: (
        "arn:aws:sagemaker:{region}:{account}:endpoint-config/{name}"
    ),
}


def _kebab(kind: str) -> str:
    out = []
    for i, ch in enumerate(kind):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


@dataclass
class OfflineMocks(Mocks):
    """The mocks for one stack's offline plan: canned invokes and computed outputs."""

    region: str
    account: str = ACCOUNT_ID
    invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.invokes = {
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getRegion:getRegion": self._region,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._zones,
            "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage": self._prebuilt_image,
            **self.invokes,
        }

    # -- invokes ---------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        handler = self.invokes.get(args.token)
        if handler is None:
            raise UnknownInvokeError(
                f"the offline plan has no canned answer for invoke '{args.token}': "
                "add one to mlstack/offline/mocks.py"
            )
        return handler(dict(args.args)), []

    def _caller_identity(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "accountId": self.account,
            "arn": f"arn:aws:iam::{self.account}:user/mlstack-plan",
            "id": self.account,
            "userId": "AIDAOFFLINEPLAN",
        }

    def _region(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.region,
            "name": self.region,
            "region": self.region,
            "description": f"offline plan region {self.region}",
            "endpoint": f"ec2.{self.region}.amazonaws.com",
        }

    def _partition(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "aws",
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
        }

    def _zones(self, _: dict[str, Any]) -> dict[str, Any]:
        letters = ("a", "b", "c")
        return {
            "id": self.region,
            "names": [f"{self.region}{x}" for x in letters],
            "zoneIds": [
                f"{self.region[:3]}{self.region.split('-')[-1]}-az{i + 1}" for i in range(3)
            ],
            "state": "available",
            "groupNames": [self.region],
        }

    def _prebuilt_image(self, args: dict[str, Any]) -> dict[str, Any]:
        repository = str(args.get("repositoryName", ""))
        region = str(args.get("region") or self.region)
        tag = str(args.get("imageTag") or "latest")
        account = PREBUILT_IMAGE_ACCOUNTS.get(repository, {}).get(region, FALLBACK_PREBUILT_ACCOUNT)
        registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
        return {
            "id": registry,
            "registryId": account,
            "registryPath": f"{registry}/{repository}:{tag}",
            "repositoryName": repository,
            "imageTag": tag,
            "region": region,
            "dnsSuffix": "amazonaws.com",
        }

    # -- resources -------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        if args.typ.startswith(KUBERNETES_PREFIX):
            return self._kubernetes(args, state)
        if args.typ.startswith(AWS_NATIVE_PREFIX):
            return self._aws_native(args, state)
        suffix = _suffix(args.typ, args.name)
        name_property = AUTONAME_PROPERTY.get(args.typ)
        if name_property and not state.get(name_property):
            state[name_property] = f"{args.name}-{suffix}"
        physical = str(state.get(name_property or "name") or f"{args.name}-{suffix}")
        resource_id = physical
        if args.typ in EC2_ID_PREFIX:
            digest = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()[:17]
            resource_id = f"{EC2_ID_PREFIX[args.typ]}-{digest}"
        if args.typ == KMS_KEY:
            digest = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()
            resource_id = (
                f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
            )
            state.setdefault("keyId", resource_id)
        state.setdefault("arn", self._arn(args.typ, physical, resource_id))
        state.setdefault("tagsAll", state.get("tags") or {})
        state.update(self._specific_outputs(args.typ, physical, state))
        return resource_id, state

    def _arn(self, typ: str, name: str, resource_id: str) -> str:
        fmt = _ARN_FORMATS.get(typ)
        if fmt:
            return fmt.format(region=self.region, account=self.account, name=name, id=resource_id)
        package_module, kind = typ.split(":")[1:3] if typ.count(":") == 2 else ("", typ)
        service = package_module.split("/")[0] or "aws"
        return f"arn:aws:{service}:{self.region}:{self.account}:{_kebab(kind)}/{name}"

    def _specific_outputs(self, typ: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        registry = f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"
        if typ == ECR_REPOSITORY:
            return {"registryId": self.account, "repositoryUrl": f"{registry}/{name}"}
        if typ in S3_BUCKET_TYPES:
            return {
                "bucketDomainName": f"{name}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
                "region": self.region,
            }
        if typ == EKS_CLUSTER:
            issuer = (
                f"https://oidc.eks.{self.region}.amazonaws.com/id/{_suffix(name).upper()}OFFLINE"
            )
            return {
                "endpoint": f"https://{_suffix(name).upper()}.gr7.{self.region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "T0ZGTElORS1QTEFOLUNB"},
                "identities": [{"oidcs": [{"issuer": issuer}]}],
                "status": "ACTIVE",
                "platformVersion": "eks.1",
            }
        if typ == IAM_OPENID_CONNECT_PROVIDER:
            host = str(state.get("url") or name).removeprefix("https://")
            return {"arn": f"arn:aws:iam::{self.account}:oidc-provider/{host}"}
        if typ == EC2_LAUNCH_TEMPLATE:
            return {"latestVersion": 1, "defaultVersion": 1}
        if typ == EKS_NODE_GROUP:
            return {"status": "ACTIVE"}
        if typ == EC2_VPC:
            return {"defaultSecurityGroupId": f"sg-{_suffix(name)}0default"}
        if typ == EC2_VPC_ENDPOINT and state.get("vpcEndpointType") == "Gateway":
            return {"prefixListId": f"pl-{_suffix(name)}", "cidrBlocks": list(S3_PREFIX_LIST_CIDRS)}
        return {}

    def _aws_native(self, args: MockResourceArgs, state: dict[str, Any]) -> tuple[str, dict]:
        """An aws-native resource: its physical name, its ARN under the provider's property
        name (its ID, as CloudFormation's primary identifier is), type-specific outputs."""
        name_property = AUTONAME_PROPERTY.get(args.typ, "name")
        if not state.get(name_property):
            state[name_property] = physical_name(args.typ, args.name)
        arn = self._arn(args.typ, str(state[name_property]), str(state[name_property]))
        arn_property, outputs = AWS_NATIVE_OUTPUTS.get(args.typ, ("arn", {}))
        state.setdefault(arn_property, arn)
        state.update(outputs)
        return arn, state

    def _kubernetes(self, args: MockResourceArgs, state: dict[str, Any]) -> tuple[str, dict]:
        metadata = dict(state.get("metadata") or {})
        # Helm releases name themselves; every other object gets the provider's auto-name.
        autonamed = not args.typ.startswith(KUBERNETES_HELM_PREFIX)
        if autonamed and "name" not in metadata and args.custom:
            metadata["name"] = f"{args.name}-{_suffix(args.typ, args.name)}"
        if metadata:
            state["metadata"] = metadata
        namespace = metadata.get("namespace")
        name = metadata.get("name") or args.name
        resource_id = f"{namespace}/{name}" if namespace else str(name)
        return resource_id, state


class MocksMustReturnPlainValues(TypeError):
    """The mocks answered with an Output or an awaitable instead of plain values."""


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of JSON's types alone (dicts with str keys, lists)."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return True
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def serialize_answer(values: dict[str, Any], what: str) -> struct_pb2.Struct:
    """What ``rpc.serialize_properties(values, {})`` gives, computed here and now.

    Plain values (nearly every answer of the mocks) go straight into the Struct, as the SDK
    puts them there in the end, a top-level None dropped as the SDK drops it: its generic
    serializer took twice as long. Anything else (an unknown, a resource, an asset) goes
    through the SDK's serializer, run to completion at once: the SDK's :class:`MockMonitor`
    waits for it with ``_sync_await``, which pumps the event loop when called on the loop's
    thread, as the offline plan calls the monitor. A value that must be awaited (an Output, a
    future) raises :class:`MocksMustReturnPlainValues`; ``what`` names the answer."""
    if _plain(values):
        struct = struct_pb2.Struct()
        struct.update({key: item for key, item in values.items() if item is not None})
        return struct
    coroutine = rpc.serialize_properties(values, {})
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise MocksMustReturnPlainValues(
        f"the offline mocks answered {what} with a value that must be awaited (an Output or "
        "a future): mocks return plain values"
    )


class RecordingMonitor(MockMonitor):
    """A :class:`MockMonitor` that keeps every registration and the stack's outputs.

    It answers as the SDK's ``MockMonitor`` (pulumi 3.272 ``runtime/mocks.py``) does, with two
    differences that leave every answer the same: a registration's inputs are deserialized
    once, for the mocks and the record alike (in a preview, the only mode the offline plan
    runs, the SDK reads unknowns as ``Unknown`` either way), and answers are serialized by
    :func:`serialize_answer`, without ``_sync_await``, so the monitor may run on the event
    loop's own thread."""

    def __init__(self, mocks: Mocks, fingerprint: Callable[[Any], str] | None = None) -> None:
        super().__init__(mocks)
        self.fingerprint = fingerprint
        """Turns a secret's value into its keyed placeholder (none: ``[secret]``)."""
        self.registrations: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn: str | None = None

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # a resource reference among the inputs deserializes to a resource
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        # Recorded before the mocks see the inputs: what they do with them is not an input.
        recorded = to_plain(inputs, self.fingerprint)
        resource_id, state = self.mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=_resolve_callbacks(request.transforms),
            )
        )
        answer = serialize_answer(state, f"resource {request.type} '{request.name}'")
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        self.registrations.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                provider=request.provider or None,
                inputs=recorded,
                options=_options(request, urn),
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=answer)

    def ReadResource(self, request: Any) -> Any:
        _ensure_event_loop()
        state = rpc.deserialize_properties(request.properties)
        resource_id, state = self.mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=state,
                provider=request.provider,
                resource_id=request.id,
            )
        )
        answer = serialize_answer(state, f"the read of {request.type} '{request.name}'")
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=answer)

    def Invoke(self, request: Any) -> Any:
        _ensure_event_loop()
        args = rpc.deserialize_properties(request.args)
        if request.tok == "pulumi:pulumi:getResource":
            registered = self.resources.get(args["urn"])
            if registered is None:
                raise KeyError(f"unknown resource {args['urn']}")
            answer = serialize_answer(registered._asdict(), f"getResource of {args['urn']}")
            return resource_pb2.ResourceInvokeResponse(failures=None, **{"return": answer})
        call = MockCallArgs(token=request.tok, args=args, provider=request.provider)
        result = self.mocks.call(call)
        values, failures = (result, None) if isinstance(result, dict) else result
        return resource_pb2.ResourceInvokeResponse(
            failures=[
                provider_pb2.CheckFailure(property=prop, reason=reason)
                for prop, reason in failures or ()
            ],
            **{"return": serialize_answer(values, f"invoke {request.tok}")},
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if self.stack_urn is not None and request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)


def _options(request: Any, urn: str) -> ResourceOptionsRecord:
    """The resource options the engine would act on in a diff."""
    return ResourceOptionsRecord(
        aliases=tuple(_alias_urn(alias, request, urn) for alias in request.aliases)
        + tuple(request.aliasURNs),
        delete_before_replace=bool(request.deleteBeforeReplace),
        replace_on_changes=tuple(request.replaceOnChanges),
        depends_on=tuple(sorted(set(request.dependencies))),
        property_dependencies={
            str(name): tuple(sorted(set(deps.urns)))
            for name, deps in sorted(request.propertyDependencies.items())
            if deps.urns
        },
        protect=bool(request.protect),
    )


STACK_TYPE = "pulumi:pulumi:Stack"


def _alias_urn(alias: Any, request: Any, urn: str) -> str:
    """The URN an alias stands for: given, or built from its spec as the engine builds it."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    stack_part, project_part, _, name = urn.split("::", 3)
    stack = spec.stack or stack_part.removeprefix("urn:pulumi:")
    project = spec.project or project_part
    type_ = spec.type or request.type
    parent = "" if spec.noParent else spec.parentUrn or request.parent
    parent_type = parent.split("::")[2] if parent else ""
    # The root stack is never part of a qualified type.
    parent_type = "" if parent_type == STACK_TYPE else parent_type.removeprefix(f"{STACK_TYPE}$")
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{spec.name or name}"
