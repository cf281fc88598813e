"""Rules over the retraining loop's resources: SageMaker Pipelines (their job steps),
Model Monitor job definitions from pulumi-aws-native, and the roles that start pipelines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from policy_pack.rules.access import PERMISSION_POLICY_TYPES
from policy_pack.rules.base import (
    Inputs,
    ResourceRule,
    as_list,
    get,
    is_set,
    is_true,
    is_unknown,
    policy_statements,
    strings,
)

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
QUALITY_JOB = "aws-native:sagemaker:ModelQualityJobDefinition"
EXPLAINABILITY_JOB = "aws-native:sagemaker:ModelExplainabilityJobDefinition"
MONITOR_JOBS = (QUALITY_JOB, EXPLAINABILITY_JOB)
START_PIPELINE = "sagemaker:startpipelineexecution"

# Per job step type: (what is encrypted, path of its key in the step's arguments).
STEP_KEYS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Processing": (
        ("output", ("ProcessingOutputConfig", "KmsKeyId")),
        ("volume", ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId")),
    ),
    "Training": (
        ("output", ("OutputDataConfig", "KmsKeyId")),
        ("volume", ("ResourceConfig", "VolumeKmsKeyId")),
    ),
    "Transform": (
        ("output", ("TransformOutput", "KmsKeyId")),
        ("volume", ("TransformResources", "VolumeKmsKeyId")),
    ),
}


def _job_steps(steps: Any) -> Iterator[Mapping[str, Any]]:
    for step in as_list(steps):
        if not isinstance(step, Mapping):
            continue
        if step.get("Type") == "Condition":
            yield from _job_steps(get(step, "Arguments", "IfSteps"))
            yield from _job_steps(get(step, "Arguments", "ElseSteps"))
        elif step.get("Type") in STEP_KEYS:
            yield step


def _has_key(value: Any, defaults: Mapping[str, Any]) -> bool:
    """A literal key, or a parameter whose default the program filled in."""
    if isinstance(value, Mapping) and isinstance(value.get("Get"), str):
        name = value["Get"].removeprefix("Parameters.")
        return value["Get"].startswith("Parameters.") and is_set(defaults.get(name) or None)
    return is_set(value)


def _pipeline_steps_encrypted(_: str, inputs: Inputs) -> Iterable[str]:
    definition = inputs.get("pipelineDefinition")
    if definition is None or is_unknown(definition):
        return
    try:
        document = json.loads(definition) if isinstance(definition, str) else definition
    except json.JSONDecodeError:
        yield "the pipeline definition is not JSON: regenerate it with make pipelines"
        return
    defaults = {
        p.get("Name"): p.get("DefaultValue")
        for p in as_list(document.get("Parameters"))
        if isinstance(p, Mapping)
    }
    for step in _job_steps(document.get("Steps")):
        for what, path in STEP_KEYS[str(step.get("Type"))]:
            if not _has_key(get(step.get("Arguments"), *path), defaults):
                yield f"pipeline step {step.get('Name')} leaves its {what} unencrypted: " + (
                    f"set {'.'.join(path)} to the stack's KMS key (the KmsKeyId parameter)"
                )


def _monitor_job_encrypted(type_token: str, inputs: Inputs) -> Iterable[str]:
    kind = "modelQuality" if type_token == QUALITY_JOB else "modelExplainability"
    if not is_set(get(inputs, f"{kind}JobOutputConfig", "kmsKeyId")):
        yield f"monitoring reports are not KMS-encrypted: set {kind}_job_output_config.kms_key_id"
    if not is_set(get(inputs, "jobResources", "clusterConfig", "volumeKmsKeyId")):
        yield "monitoring volumes are not KMS-encrypted: set " + (
            "job_resources.cluster_config.volume_kms_key_id"
        )
    if not is_true(get(inputs, "networkConfig", "enableInterContainerTrafficEncryption")):
        yield "monitoring instances talk in clear text: set " + (
            "network_config.enable_inter_container_traffic_encryption=True"
        )


def _start_pipeline_scoped(_: str, inputs: Inputs) -> Iterable[str]:
    for key in ("policy", "inlinePolicies"):
        documents = (
            [inputs.get(key)]
            if key == "policy"
            else [get(p, "policy") for p in as_list(inputs.get(key))]
        )
        for document in documents:
            for statement in policy_statements(document):
                if statement.get("Effect") != "Allow":
                    continue
                actions = [a.lower() for a in strings(statement.get("Action"))]
                starts = any(a in (START_PIPELINE, "sagemaker:*", "*") for a in actions)
                if starts and "*" in strings(statement.get("Resource")):
                    sid = statement.get("Sid") or "a statement"
                    yield f"{sid} may start any pipeline: name the pipeline's ARN as Resource"


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="sagemaker-pipeline-steps-encrypted",
        description="Every processing, training and transform step of a SageMaker Pipeline "
        "encrypts its output and its volume with a KMS key.",
        resource_types=(PIPELINE,),
        check=_pipeline_steps_encrypted,
        fix="Generate the definition with make pipelines (the KmsKeyId parameter, filled by "
        "the program with the stack's key).",
    ),
    ResourceRule(
        name="model-monitor-job-encrypted",
        description="Model-quality and explainability jobs encrypt reports, volumes and "
        "inter-container traffic.",
        resource_types=MONITOR_JOBS,
        check=_monitor_job_encrypted,
        fix="Declare the jobs with the ModelMonitors component (stack key, encrypted traffic).",
    ),
    ResourceRule(
        name="pipeline-start-scoped",
        description="A role that may start SageMaker pipelines names the pipelines it starts.",
        resource_types=PERMISSION_POLICY_TYPES,
        check=_start_pipeline_scoped,
        fix="Give each trigger its own role allowed sagemaker:StartPipelineExecution on one "
        "pipeline ARN (the Retraining and BatchInference components do).",
    ),
)
