"""SageMaker Pipeline definitions of a model's retraining and batch inference, built with the
sagemaker SDK's workflow classes and written as JSON beside the stack files.

``make pipelines`` writes ``stacks/pipelines/<stack>-<model>.json`` (retraining) and
``stacks/pipelines/<stack>-<model>-batch.json`` (batch transform) for every model whose
``retraining`` or ``batch`` is enabled; the program declares ``aws.sagemaker.Pipeline`` from
them, and a test fails when a committed file differs from what this module generates.

Generating makes no AWS call: the SDK runs on a :class:`PipelineSession` whose client points
at a closed loopback port (any call would fail the build instead of reaching AWS), with a
default bucket set, role validation and telemetry off. What only the deployment knows is a
pipeline parameter whose default the program fills in (:data:`DEPLOY_PARAMETERS`): the
artifacts bucket, the stack's KMS key, the execution role and, for batch, the model name.
Step scripts are read from ``s3://<bucket>/<codePrefix>/<sha256>/<script>``, the hash of the
repository's file (:mod:`mlstack.pipelines.scripts`): a definition names the exact scripts of
its release, which the deploy workflow uploads before ``pulumi up``; nothing is uploaded
from here.

The retraining run:

1. ``Gate`` (processing, ``gate.py``): writes ``gate.json`` with ``allowed`` false when
   another execution of the pipeline started less than ``minIntervalHours`` ago;
   ``IntervalElapsed`` fails the run there (``TooSoon``), so a flapping drift alarm cannot
   start a storm of trainings.
2. ``Preprocess`` (processing, ``preprocess.py``): raw data into train / validation / test.
3. ``Train`` (training): the configured image, instances and hyperparameters.
4. ``Evaluate`` (processing, ``evaluate.py``): writes ``evaluation.json``
   (``metrics.<metric>.value``), declared as the property file ``EvaluationReport``.
5. ``MetricReached``: the candidate's metric at least ``Threshold`` and ``ApprovedMetric``
   (the approved version's metric; the threshold when not known), else ``BelowBar``.
6. ``Register``: the candidate into the model package group as ``PendingManualApproval`` with
   the evaluation report as its model metrics, the serving image and the trained artifact.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.batch import BatchConfig
from infra.config.model import ModelConfig
from infra.config.retraining import RetrainingConfig, definition_file
from mlstack.pipelines.scripts import BUCKET_PARAMETER, CODE_INPUT, script_key

ROLE_PLACEHOLDER = "arn:aws:iam::000000000000:role/mlstack-pipeline-execution-role"
"""Literal role given to SDK classes that accept no parameter for it; every occurrence is
replaced by a reference to the ``ExecutionRoleArn`` parameter."""
BUCKET = BUCKET_PARAMETER
KMS_KEY = "KmsKeyId"
ROLE = "ExecutionRoleArn"
MODEL_NAME = "ModelName"
DEPLOY_PARAMETERS = (BUCKET, KMS_KEY, ROLE, MODEL_NAME)
"""Parameters whose default the program sets from the stack's resources."""
TRIGGER_PARAMETER = "TriggerReason"
"""Why a run started: ``schedule``, ``drift-alarm`` or ``manual`` (``mlstack pipeline start``)."""
CODE_DIR = "/opt/ml/processing/code"
"""Where a processing step finds its script in the container."""


@dataclass(frozen=True)
class GeneratedPipeline:
    """One generated definition and the file it belongs in."""

    path: Path
    """Relative to the project root."""
    definition: dict[str, Any]

    def text(self) -> str:
        return json.dumps(self.definition, indent=2, sort_keys=True) + "\n"


@contextmanager
def _offline_sdk() -> Iterator[None]:
    """Environment under which the SDK imports and builds without reaching AWS."""
    settings = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        # Every botocore client goes here; nothing listens, so a stray call fails loudly.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }
    from mlstack.service_models import sessions_share_loaders

    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        # The SDK makes a boto3 session per SageMaker session, and another for each
        # local-mode client it builds only to read a method name.
        with _sdk_quiet(), _config_validated_once(), sessions_share_loaders():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _sdk_quiet() -> Iterator[None]:
    """The SDK's own messages silenced while it builds: its import sets the root logger to
    INFO, and a build then narrates its offline session (endpoints, the placeholder
    credentials, fields it leaves to the execution, "No Wait, No Logs" warnings), about 80
    lines for the shipped stacks, none about the definitions. Errors still show, and a
    failure raises as before."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"sagemaker(\.|$)")
            warnings.filterwarnings("ignore", message="The 'dependencies' parameter is deprecated")
            yield
    finally:
        logging.disable(previous)


_VALIDATED_CONFIGS: set[str] = set()
"""The SDK configs (as sorted JSON) already validated against the SDK's schema in this
process."""


@contextmanager
def _config_validated_once() -> Iterator[None]:
    """Each distinct SDK config is validated against the SDK's schema once per process, not
    per lookup or per session.

    The SDK validates the config of every session it makes and on every config lookup, and
    ``jsonschema.validate`` checks the (large) schema itself each time, 0.3 s a call: about
    70 calls per retraining definition. The configs never change here, so one validation of
    each is enough; an invalid config still fails on its first validation.
    """
    from sagemaker.core.config import config as sdk_config
    from sagemaker.core.config.config_manager import SageMakerConfig
    from sagemaker.core.helper import session_helper

    original = sdk_config.validate_sagemaker_config

    def validate(sagemaker_config: dict | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in _VALIDATED_CONFIGS:
            original(sagemaker_config)
            _VALIDATED_CONFIGS.add(key)

    # The config manager's copy and the one sessions imported by name.
    patched = [
        (SageMakerConfig, "validate_sagemaker_config", staticmethod(validate)),
        (session_helper, "validate_sagemaker_config", validate),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patched]
    try:
        for owner, name, replacement in patched:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _session(region: str) -> Any:
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    from mlstack.service_models import new_session

    boto_session = new_session(
        region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline"
    )
    session = PipelineSession(
        boto_session=boto_session,
        default_bucket="mlstack-offline",
        sagemaker_config={
            "SchemaVersion": "1.0",
            "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
        },
    )
    # The SDK checks (and would create) the default bucket on first use; the definition
    # names every S3 location itself, so the check is skipped.
    session._default_bucket = "mlstack-offline"
    return session


def _uri(bucket: Any, *parts: Any) -> Any:
    from sagemaker.core.workflow.functions import Join

    return Join(on="/", values=["s3:/", bucket, *parts])


def _finish(definition: str) -> dict[str, Any]:
    """The SDK's JSON with the role placeholder turned into a parameter reference."""
    document = json.loads(definition)

    def walk(value: Any) -> Any:
        if value == ROLE_PLACEHOLDER:
            return {"Get": f"Parameters.{ROLE}"}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    document = walk(document)
    # Empty SDK fields the service ignores; dropped so reviews see only what matters.
    for key in ("MlflowConfig", "Metadata"):
        if not document.get(key):
            document.pop(key, None)
    return document


def _processor(
    session: Any,
    settings: RetrainingConfig,
    role: Any,
    kms: Any,
    script: str,
    *,
    isolated: bool,
) -> Any:
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor

    return Processor(
        role=role,
        image_uri=settings.processing_image,
        instance_count=1,
        instance_type=settings.processing_instance_type,
        volume_size_in_gb=settings.volume_size_gb,
        volume_kms_key=kms,
        output_kms_key=kms,
        entrypoint=["python3", f"{CODE_DIR}/{script}"],
        network_config=NetworkConfig(
            enable_network_isolation=isolated, encrypt_inter_container_traffic=True
        ),
        sagemaker_session=session,
    )


def retraining_definition(
    model: str, group: str, settings: RetrainingConfig, region: str
) -> dict[str, Any]:
    """The retraining pipeline of ``model`` (registering into ``group``) as a dict."""
    with _offline_sdk():
        return _retraining(model, group, settings, region)


def _retraining(model: str, group: str, settings: RetrainingConfig, region: str) -> dict:
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ProcessingInput, ProcessingOutput
    from sagemaker.core.shapes import ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.training.configs import (
        Compute,
        InputData,
        Networking,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.core.workflow.conditions import ConditionEquals, ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer

    session = _session(region)
    bucket = ParameterString(BUCKET, default_value="")
    kms = ParameterString(KMS_KEY, default_value="")
    role = ParameterString(ROLE, default_value="")
    reason = ParameterString(TRIGGER_PARAMETER, default_value="manual")
    threshold = ParameterFloat("Threshold", default_value=settings.threshold)
    approved = ParameterFloat(
        "ApprovedMetric",
        default_value=(
            settings.approved_metric if settings.approved_metric is not None else settings.threshold
        ),
    )
    code = settings.code_prefix
    run_prefix = ["pipelines", model, "runs"]

    def s3_in(name: str, uri: Any, local: str) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File"
            ),
        )

    def s3_out(name: str, local: str) -> Any:
        uri = _uri(bucket, *run_prefix, ExecutionVariables.PIPELINE_EXECUTION_ID, name)
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(s3_uri=uri, local_path=local, s3_upload_mode="EndOfJob"),
        )

    def code_input(script: str) -> Any:
        return s3_in(CODE_INPUT, _uri(bucket, script_key(code, script)), CODE_DIR)

    gate_file = PropertyFile(name="GateReport", output_name="gate", path="gate.json")
    gate = ProcessingStep(
        "Gate",
        step_args=_processor(
            session, settings, ROLE_PLACEHOLDER, kms, "gate.py", isolated=False
        ).run(
            inputs=[code_input("gate.py")],
            outputs=[s3_out("gate", "/opt/ml/processing/gate")],
            arguments=[
                "--pipeline-name",
                ExecutionVariables.PIPELINE_NAME,
                "--execution-arn",
                ExecutionVariables.PIPELINE_EXECUTION_ARN,
                "--min-interval-hours",
                str(settings.min_interval_hours),
                "--trigger-reason",
                reason,
            ],
        ),
        property_files=[gate_file],
    )
    preprocess = ProcessingStep(
        "Preprocess",
        step_args=_processor(
            session, settings, ROLE_PLACEHOLDER, kms, "preprocess.py", isolated=True
        ).run(
            inputs=[
                code_input("preprocess.py"),
                s3_in("raw", _uri(bucket, settings.input_prefix), "/opt/ml/processing/input"),
            ],
            outputs=[
                s3_out(name, f"/opt/ml/processing/{name}")
                for name in ("train", "validation", "test")
            ],
        ),
    )
    trainer = ModelTrainer(
        training_image=settings.training_image,
        role=ROLE_PLACEHOLDER,
        compute=Compute(
            instance_type=settings.training_instance_type,
            instance_count=settings.training_instance_count,
            volume_size_in_gb=settings.volume_size_gb,
            volume_kms_key_id=kms,
        ),
        networking=Networking(
            enable_network_isolation=True, enable_inter_container_traffic_encryption=True
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=settings.training_max_runtime_seconds
        ),
        hyperparameters=dict(sorted(settings.hyperparameters.items())),
        output_data_config=OutputDataConfig(
            s3_output_path=_uri(bucket, "pipelines", model, "models"), kms_key_id=kms
        ),
        base_job_name=f"{model}-train",
        sagemaker_session=session,
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    train = TrainingStep(
        "Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name=name, data_source=outputs[name].S3Output.S3Uri)
                for name in ("train", "validation")
            ]
        ),
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate",
        step_args=_processor(
            session, settings, ROLE_PLACEHOLDER, kms, "evaluate.py", isolated=True
        ).run(
            inputs=[
                code_input("evaluate.py"),
                s3_in(
                    "model",
                    train.properties.ModelArtifacts.S3ModelArtifacts,
                    "/opt/ml/processing/model",
                ),
                s3_in("test", outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[s3_out("evaluation", "/opt/ml/processing/evaluation")],
            arguments=["--metric", settings.metric],
        ),
        property_files=[report],
    )
    candidate = JsonGet(
        step_name=evaluate.name,
        property_file=report,
        json_path=f"metrics.{settings.metric}.value",
    )
    evaluation_uri = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            "evaluation.json",
        ],
    )
    builder = ModelBuilder(
        image_uri=settings.serving_image or settings.training_image,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=ROLE_PLACEHOLDER,
        sagemaker_session=session,
    )
    register = ModelStep(
        "Register",
        step_args=builder.register(
            model_package_group_name=group,
            approval_status="PendingManualApproval",
            content_types=["text/csv", "application/json"],
            response_types=["application/json"],
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    content_type="application/json", s3_uri=evaluation_uri
                )
            ),
            # Read by the approval notification: "<model> v7 awaiting approval: auc 0.91
            # vs 0.89".
            customer_metadata_properties={
                "metric": settings.metric,
                "metricValue": Join(on="", values=[candidate]),
                "approvedMetric": Join(on="", values=[approved]),
                "trigger": reason,
            },
            description=f"{model} candidate from the retraining pipeline",
        ),
    )
    below_bar = FailStep(
        "BelowBar",
        error_message=f"the candidate's {settings.metric} is below the threshold or the "
        "approved version's: not registered",
    )
    quality = ConditionStep(
        "MetricReached",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=candidate, right=threshold),
            ConditionGreaterThanOrEqualTo(left=candidate, right=approved),
        ],
        if_steps=[register],
        else_steps=[below_bar],
    )
    too_soon = FailStep(
        "TooSoon",
        error_message=f"another run started less than {settings.min_interval_hours} h ago",
    )
    interval = ConditionStep(
        "IntervalElapsed",
        conditions=[
            ConditionEquals(
                left=JsonGet(step_name=gate.name, property_file=gate_file, json_path="allowed"),
                right=True,
            )
        ],
        if_steps=[preprocess, train, evaluate, quality],
        else_steps=[too_soon],
    )
    pipeline = Pipeline(
        name=f"{model}-retraining",
        parameters=[bucket, kms, role, reason, threshold, approved],
        steps=[gate, interval],
        sagemaker_session=session,
    )
    return _finish(pipeline.definition())


def batch_definition(model: str, settings: BatchConfig, region: str) -> dict[str, Any]:
    """The batch inference pipeline of ``model``: one transform step."""
    with _offline_sdk():
        return _batch(model, settings, region)


def _batch(model: str, settings: BatchConfig, region: str) -> dict[str, Any]:
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import TransformStep

    session = _session(region)
    bucket = ParameterString(BUCKET, default_value="")
    kms = ParameterString(KMS_KEY, default_value="")
    model_name = ParameterString(MODEL_NAME, default_value="")
    reason = ParameterString(TRIGGER_PARAMETER, default_value="manual")
    transformer = Transformer(
        model_name=model_name,
        instance_count=settings.instance_count,
        instance_type=settings.instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="application/json",
        max_payload=settings.max_payload_mb,
        output_path=_uri(bucket, settings.output_prefix, ExecutionVariables.PIPELINE_EXECUTION_ID),
        output_kms_key=kms,
        volume_kms_key=kms,
        sagemaker_session=session,
    )
    transform = TransformStep(
        "Transform",
        step_args=transformer.transform(
            data=_uri(bucket, settings.input_prefix),
            content_type=settings.content_type,
            split_type="Line",
            model_client_config={
                "InvocationsTimeoutInSeconds": settings.max_runtime_seconds,
                "InvocationsMaxRetries": 1,
            },
        ),
    )
    pipeline = Pipeline(
        name=f"{model}-batch",
        parameters=[bucket, kms, model_name, reason],
        steps=[transform],
        sagemaker_session=session,
    )
    return _finish(pipeline.definition())


def model_pipelines(
    stack: str, model: str, group: str, settings: ModelConfig, region: str
) -> list[GeneratedPipeline]:
    """Every pipeline definition one model of a stack declares (``settings.pipeline_kinds``);
    ``model`` is the name its loop goes by."""
    build = {
        "retraining": lambda: retraining_definition(model, group, settings.retraining, region),
        "batch": lambda: batch_definition(model, settings.batch, region),
    }
    return [
        GeneratedPipeline(definition_file(stack, model, kind), build[kind]())
        for kind in settings.pipeline_kinds
    ]


def stack_pipelines(root: Path, stack: str) -> list[GeneratedPipeline]:
    """Every pipeline definition the stack file ``stacks/Pulumi.<stack>.yaml`` declares: of
    each of its models (every model of ``mlstack:models``, or ``mlstack:model``)."""
    from mlstack.pipelines.stacks import stack_models

    config, models = stack_models(root, stack)
    return [
        generated
        for model in models.values()
        for generated in model_pipelines(
            stack, model.name, model.package_group_name, model.settings, config.region
        )
    ]
