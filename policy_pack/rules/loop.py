"""Rules over the retraining loop's resources: SageMaker Pipelines (their job steps), what
starts them (EventBridge Scheduler schedules, EventBridge rules and targets, and their
roles), Model Monitor job definitions from pulumi-aws-native and the schedules that run
them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from policy_pack.rules.access import PERMISSION_POLICY_TYPES
from policy_pack.rules.base import (
    Inputs,
    Resource,
    ResourceRule,
    StackContext,
    StackRule,
    Violation,
    as_list,
    get,
    is_set,
    is_true,
    is_unknown,
    policy_statements,
    strings,
)
from policy_pack.rules.delivery import model_of
from policy_pack.type_tokens import (
    CLOUDWATCH_EVENT_RULE,
    CLOUDWATCH_EVENT_TARGET,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,
    SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION,
    SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION,
    SAGEMAKER_MONITORING_SCHEDULE,
    SAGEMAKER_PIPELINE,
    SCHEDULER_SCHEDULE,
)

MONITOR_JOBS = (
    SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION,
    SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION,
)
START_PIPELINE = "sagemaker:startpipelineexecution"
START_GRANTS = (START_PIPELINE, "sagemaker:*", "*")
AWS_EVENT_SOURCE = "aws."
"""EventBridge refuses PutEvents entries whose source starts with this: only AWS services
send such events."""
JOB_DEFINITION_NAMES: dict[str, tuple[str, str]] = {
    # monitoringType: (job definition type, its name property)
    "DataQuality": (SAGEMAKER_DATA_QUALITY_JOB_DEFINITION, "name"),
    "ModelQuality": (SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION, "jobDefinitionName"),
    "ModelExplainability": (SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION, "jobDefinitionName"),
}

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
    kind = (
        "modelQuality"
        if type_token == SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION
        else "modelExplainability"
    )
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


def _schedule_kms(_: str, inputs: Inputs) -> Iterable[str]:
    if not is_set(inputs.get("kmsKeyArn")):
        yield (
            "the schedule's target input (pipeline parameters) is encrypted with an AWS owned "
            "key: set kms_key_arn to the stack's key"
        )


# --- what starts a pipeline ------------------------------------------------------------------


def _violation(resource: Resource, message: str) -> Violation:
    model = model_of(resource)
    return Violation(resource.urn, f"model '{model}': {message}" if model else message)


def _of(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    return [r for r in resources if r.type == type_token]


def _is_pipeline_arn(value: Any) -> bool:
    return isinstance(value, str) and ":sagemaker:" in value and ":pipeline/" in value


def _pipeline_triggers(resources: Sequence[Resource]) -> Iterator[tuple[Resource, Any, Any]]:
    """(trigger, target ARN, role ARN) of every schedule or EventBridge target that starts a
    SageMaker pipeline: its target is a pipeline ARN or carries pipeline parameters."""
    for schedule in _of(resources, SCHEDULER_SCHEDULE):
        target = get(schedule.inputs, "target")
        arn = get(target, "arn")
        if _is_pipeline_arn(arn) or is_set(get(target, "sagemakerPipelineParameters")):
            yield schedule, arn, get(target, "roleArn")
    for target in _of(resources, CLOUDWATCH_EVENT_TARGET):
        arn = target.inputs.get("arn")
        if _is_pipeline_arn(arn) or is_set(target.inputs.get("sagemakerPipelineTarget")):
            yield target, arn, target.inputs.get("roleArn")


def _role_named(resources: Sequence[Resource], arn: str) -> Resource | None:
    name = arn.rsplit("/", 1)[-1]
    for role in _of(resources, IAM_ROLE):
        if role.inputs.get("arn") == arn or name in (role.inputs.get("name"), role.id):
            return role
    return None


def _role_documents(resources: Sequence[Resource], role: Resource) -> tuple[list[Any], list[str]]:
    """The role's permission documents, and the attached policies the stack does not hold."""
    names = {n for n in (role.inputs.get("name"), role.id) if isinstance(n, str)}
    documents = [get(p, "policy") for p in as_list(role.inputs.get("inlinePolicies"))]
    documents += [
        p.inputs.get("policy")
        for p in _of(resources, IAM_ROLE_POLICY)
        if p.inputs.get("role") in names or is_unknown(p.inputs.get("role"))
    ]
    unreadable: list[str] = []
    managed = {
        key: p for p in _of(resources, IAM_POLICY) for key in (p.inputs.get("arn"), p.id) if key
    }
    for attachment in _of(resources, IAM_ROLE_POLICY_ATTACHMENT):
        if attachment.inputs.get("role") not in names:
            continue
        policy_arn = attachment.inputs.get("policyArn")
        if policy_arn in managed:
            documents.append(managed[policy_arn].inputs.get("policy"))
        elif not is_unknown(policy_arn):
            unreadable.append(str(policy_arn))
    return documents, unreadable


def _start_grants(documents: Iterable[Any]) -> list[Any]:
    """The resources an Allow statement lets the role start pipelines on."""
    granted: list[Any] = []
    for document in documents:
        for statement in policy_statements(document):
            actions = [a.lower() for a in strings(statement.get("Action"))]
            if statement.get("Effect") == "Allow" and any(a in START_GRANTS for a in actions):
                resource = statement.get("Resource")
                granted += strings(resource) or ([resource] if is_unknown(resource) else [])
    return granted


def _event_sources(pattern: Any) -> list[Any] | None:
    """The ``source`` values of an event pattern; None when it cannot be read."""
    if is_unknown(pattern) or not isinstance(pattern, (str, Mapping)):
        return None
    try:
        document = json.loads(pattern) if isinstance(pattern, str) else pattern
    except json.JSONDecodeError:
        return None
    return as_list(document.get("source")) if isinstance(document, Mapping) else None


def _pipeline_triggers_scoped(
    resources: Sequence[Resource], _: StackContext
) -> Iterable[Violation]:
    triggers = list(_pipeline_triggers(resources))
    started: dict[str, set[str]] = {}
    for _trigger, arn, role_arn in triggers:
        if isinstance(role_arn, str) and not is_unknown(role_arn):
            started.setdefault(role_arn, set()).add(arn)
    checked: set[str] = set()
    for trigger, _arn, role_arn in triggers:
        what = "schedule" if trigger.type == SCHEDULER_SCHEDULE else "EventBridge target"
        if not is_set(role_arn):
            yield _violation(
                trigger,
                f"{what} {trigger.name} starts a pipeline without a role: give it a role "
                "allowed sagemaker:StartPipelineExecution on that pipeline only",
            )
            continue
        if trigger.type == CLOUDWATCH_EVENT_TARGET:
            yield from _rule_sources(resources, trigger)
        if is_unknown(role_arn) or role_arn in checked:
            continue
        checked.add(role_arn)
        role = _role_named(resources, role_arn)
        if role is None:
            yield _violation(
                trigger,
                f"{what} {trigger.name} starts a pipeline as {role_arn}, a role this stack does "
                "not declare, so what else it may do is unchecked: declare the trigger's role "
                "with the stack",
            )
            continue
        documents, unreadable = _role_documents(resources, role)
        for policy_arn in unreadable:
            yield _violation(
                role,
                f"role {role.name} starts pipelines and has {policy_arn} attached, which this "
                "stack does not declare: give a trigger role inline policies only",
            )
        targets = started.get(role_arn, set())
        for resource in _start_grants(documents):
            if is_unknown(resource) or resource in targets or any(map(is_unknown, targets)):
                continue
            yield _violation(
                role,
                f"role {role.name} of {what} {trigger.name} may start {resource}, not only the "
                f"pipeline{'s' if len(targets) > 1 else ''} it triggers "
                f"({', '.join(sorted(map(str, targets)))}): name that pipeline's ARN alone",
            )


def _rule_sources(resources: Sequence[Resource], target: Resource) -> Iterable[Violation]:
    rule_name = target.inputs.get("rule")
    rules = [
        r
        for r in _of(resources, CLOUDWATCH_EVENT_RULE)
        if rule_name in (r.inputs.get("name"), r.id)
    ]
    for rule in rules:
        sources = _event_sources(rule.inputs.get("eventPattern"))
        if sources is None:
            continue
        custom = [s for s in sources if not (isinstance(s, str) and s.startswith(AWS_EVENT_SOURCE))]
        if not sources or custom:
            yield _violation(
                rule,
                f"EventBridge rule {rule.name} starts a pipeline on events "
                + (f"from {', '.join(map(json.dumps, custom))}" if custom else "of any source")
                + ", which anyone allowed events:PutEvents can send: match AWS service "
                "events only (source aws.*)",
            )


# --- Model Monitor schedules -----------------------------------------------------------------


def _monitoring_runs_checked_job(
    resources: Sequence[Resource], _: StackContext
) -> Iterable[Violation]:
    for schedule in _of(resources, SAGEMAKER_MONITORING_SCHEDULE):
        config = schedule.inputs.get("monitoringScheduleConfig")
        name = get(config, "monitoringJobDefinitionName")
        kind = get(config, "monitoringType")
        if is_unknown(name) or is_unknown(kind):
            continue
        if kind is not None and kind not in JOB_DEFINITION_NAMES:
            yield _violation(
                schedule,
                f"monitoring schedule {schedule.name} runs a {kind} job, which the pack has no "
                "rule for: declare DataQuality, ModelQuality or ModelExplainability jobs",
            )
            continue
        # Without a monitoringType, a job definition of any kind may carry the name.
        kinds = [JOB_DEFINITION_NAMES[kind]] if kind else list(JOB_DEFINITION_NAMES.values())
        declared = {
            n
            for type_token, prop in kinds
            for job in _of(resources, type_token)
            for n in (job.inputs.get(prop), job.id)
            if n
        }
        if name not in declared and not any(map(is_unknown, declared)):
            yield _violation(
                schedule,
                f"monitoring schedule {schedule.name} runs job definition {name}, which this "
                f"stack does not declare{f' as a {kind} job' if kind else ''}, so its "
                "encryption is unchecked: declare the job definition with the stack",
            )


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="sagemaker-pipeline-steps-encrypted",
        description="Every processing, training and transform step of a SageMaker Pipeline "
        "encrypts its output and its volume with a KMS key.",
        resource_types=(SAGEMAKER_PIPELINE,),
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
        name="scheduler-schedule-kms",
        description="EventBridge Scheduler schedules encrypt their target's input with a "
        "customer managed KMS key.",
        resource_types=(SCHEDULER_SCHEDULE,),
        check=_schedule_kms,
        fix="Declare the schedule with the Retraining or BatchInference component, which "
        "encrypts it with the stack's key.",
        checkov_id="CKV_AWS_297",
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

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        name="pipeline-triggers-scoped",
        description="A schedule or EventBridge target that starts a SageMaker pipeline does so "
        "as a role of the stack that may start that pipeline alone, and an EventBridge rule "
        "starts one only on AWS service events, never on events any caller of PutEvents can "
        "send.",
        check=_pipeline_triggers_scoped,
        fix="Give each trigger its own role with an inline policy allowing "
        "sagemaker:StartPipelineExecution on its pipeline's ARN, and match source aws.* in the "
        "rule's event pattern (the Retraining and BatchInference components do).",
    ),
    StackRule(
        name="monitoring-schedule-job-declared",
        description="Every Model Monitor schedule runs a job definition of its kind declared "
        "in the same stack, so the pack's encryption rules see the job it runs.",
        check=_monitoring_runs_checked_job,
        fix="Declare the job definition and its schedule together, with the DriftMonitor or "
        "ModelMonitors component.",
    ),
)
