"""The committed pipeline definitions: current with every stack file (every model of a stack
of many models included), and shaped as a retraining run must be. Each stack's definitions are
generated once per module (the sagemaker SDK is slow to import and to build)."""

from __future__ import annotations

import json
import logging
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.config.retraining import PIPELINES_DIR
from mlstack.cli.app import app
from mlstack.pipelines.__main__ import main as make_pipelines
from mlstack.pipelines.__main__ import owner
from mlstack.pipelines.definitions import GeneratedPipeline, stack_pipelines
from mlstack.pipelines.scripts import pipeline_steps
from mlstack.pipelines.stacks import stack_models
from mlstack.project import PROJECT_ROOT
from tests.conftest import edit_stack_file, make_project_copy

STACKS = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for p in (PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml")
)
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranking-{}:2.0.0"


@contextmanager
def _offline() -> Iterator[None]:
    """Every network connection refused: building definitions must not reach AWS (or
    anything else)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access while generating pipeline definitions")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        yield
    assert attempts == [], f"generating the definitions tried to connect to {attempts}"


@pytest.fixture(scope="module")
def generated() -> list[GeneratedPipeline]:
    """Every shipped stack's definitions, generated offline."""
    with _offline():
        return [pipeline for stack in STACKS for pipeline in stack_pipelines(PROJECT_ROOT, stack)]


@dataclass(frozen=True)
class TwoLoops:
    """A copy of the platform stack where churn and ranking retrain, before and after
    ``make pipelines``."""

    project: Path
    plan_exit_code: int
    plan_output: str
    """``mlstack plan platform`` with neither model's definition in stacks/pipelines/."""
    generator_exit_code: int
    written: set[str]
    """Files in the copy's stacks/pipelines/ for the platform stack after the generator ran."""


def _ranking_retrains_by_the_defaults(config: dict[str, Any]) -> None:
    # Images from modelDefaults: the generator must read the merged settings.
    config["mlstack:modelDefaults"]["retraining"] = {
        "processingImage": IMAGE.format("processing"),
        "trainingImage": IMAGE.format("training"),
        "servingImage": IMAGE.format("serving"),
    }
    config["mlstack:models"]["ranking"]["retraining"] = {"enabled": True}
    # One pipeline less to build: churn keeps its retraining only.
    del config["mlstack:models"]["churn"]["batch"]


@pytest.fixture(scope="module")
def two_loops(tmp_path_factory: pytest.TempPathFactory) -> TwoLoops:
    project = make_project_copy(tmp_path_factory.mktemp("two-loops") / "project")
    edit_stack_file(project, "platform", _ranking_retrains_by_the_defaults)
    for committed in (project / PIPELINES_DIR).glob("platform-*.json"):
        committed.unlink()
    planned = CliRunner().invoke(app, ["plan", "platform", "--project-dir", str(project)])
    with _offline():
        exit_code = make_pipelines(["--project-dir", str(project), "platform"])
    return TwoLoops(
        project=project,
        plan_exit_code=planned.exit_code,
        plan_output=planned.output,
        generator_exit_code=exit_code,
        written={p.name for p in (project / PIPELINES_DIR).glob("platform-*.json")},
    )


def _steps(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Every step of a definition by name, those under condition steps included."""
    return {step["Name"]: step for step in pipeline_steps(steps)}


def test_committed_definitions_are_current(generated: list[GeneratedPipeline]) -> None:
    names = {g.path.name for g in generated}
    assert names == {
        "production-churn-classifier.json",
        "production-churn-classifier-batch.json",
        "platform-churn.json",
        "platform-churn-batch.json",
    }
    for pipeline in generated:
        path = PROJECT_ROOT / pipeline.path
        assert path.exists(), f"{pipeline.path} is missing: make pipelines"
        assert path.read_text() == pipeline.text(), f"{pipeline.path} is stale: make pipelines"
    committed = {p.name for p in (PROJECT_ROOT / PIPELINES_DIR).glob("*.json")}
    assert committed == names, f"no stack declares {sorted(committed - names)}: remove them"


def test_every_model_of_a_stack_of_models_by_its_loop_name() -> None:
    _, platform = stack_models(PROJECT_ROOT, "platform")
    assert set(platform) == {"churn", "ranking", "language-id", "sentiment"}
    churn = platform["churn"]
    assert (churn.key, churn.package_group_name) == ("mlstack:models.churn", "churn-classifier")
    assert churn.settings.pipeline_kinds == ("retraining", "batch")
    assert all(not m.settings.pipeline_kinds for n, m in platform.items() if n != "churn")
    _, production = stack_models(PROJECT_ROOT, "production")
    assert [(m.name, m.key) for m in production.values()] == [("churn-classifier", "mlstack:model")]


def test_a_plan_without_the_definitions_names_each_models_key(two_loops: TwoLoops) -> None:
    assert two_loops.plan_exit_code == 2, two_loops.plan_output
    output = two_loops.plan_output
    for model in ("churn", "ranking"):
        assert (
            f"mlstack:models.{model}.retraining: stacks/pipelines/platform-{model}.json is missing"
        ) in output
    assert "make pipelines" in output
    assert "mlstack:model." not in output


def test_make_pipelines_writes_each_models_definition(two_loops: TwoLoops) -> None:
    assert two_loops.generator_exit_code == 0
    assert two_loops.written == {"platform-churn.json", "platform-ranking.json"}
    pipelines = two_loops.project / PIPELINES_DIR
    # churn's settings are the shipped ones: its definition is the committed file.
    committed = (PROJECT_ROOT / PIPELINES_DIR / "platform-churn.json").read_text()
    assert (pipelines / "platform-churn.json").read_text() == committed
    ranking = json.loads((pipelines / "platform-ranking.json").read_text())
    steps = _steps(ranking["Steps"])
    assert steps["Register"]["Arguments"]["ModelPackageGroupName"] == "ranking"
    train = steps["Train"]["Arguments"]["AlgorithmSpecification"]
    assert train["TrainingImage"] == IMAGE.format("training")


def _no_batch_for_churn(config: dict[str, Any]) -> None:
    del config["mlstack:models"]["churn"]["batch"]


def test_definitions_no_model_declares_are_reported_then_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project_copy(tmp_path / "project")
    edit_stack_file(project, "platform", _no_batch_for_churn)
    pipelines = project / PIPELINES_DIR
    (pipelines / "retired-ranking.json").write_text("{}")  # a stack file since removed
    kept = {p.name: p.read_text() for p in pipelines.glob("*.json")}
    with _offline():
        checked = make_pipelines(["--project-dir", str(project), "--check"])
        report = capsys.readouterr().err
        assert checked == 1
        assert "platform-churn-batch.json (no model of stack 'platform' declares it)" in report
        assert "retired-ranking.json (no stack file declares it)" in report
        unchanged = {p.name: p.read_text() for p in pipelines.glob("*.json")}
        assert unchanged == kept, "--check wrote or removed a file"
        # Named stacks: only their own files go; a file of no stack stays for a full run.
        assert make_pipelines(["--project-dir", str(project), "platform"]) == 0
        assert "removed stacks/pipelines/platform-churn-batch.json" in capsys.readouterr().out
        assert (pipelines / "retired-ranking.json").exists()
        assert make_pipelines(["--project-dir", str(project)]) == 0
        assert "removed stacks/pipelines/retired-ranking.json" in capsys.readouterr().out
        assert make_pipelines(["--project-dir", str(project), "--check"]) == 0
    assert {p.name for p in pipelines.glob("*.json")} == {
        "production-churn-classifier.json",
        "production-churn-classifier-batch.json",
        "platform-churn.json",
    }


def test_a_definition_belongs_to_the_longest_stack_name_it_starts_with() -> None:
    stacks = ["prod", "prod-eu", "staging"]
    assert owner("prod-eu-churn.json", stacks) == "prod-eu"
    assert owner("prod-churn.json", stacks) == "prod"
    assert owner("production-churn.json", stacks) is None


def test_generating_says_only_what_it_wrote(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with _offline(), caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert make_pipelines(["--project-dir", str(PROJECT_ROOT), "--check", "production"]) == 0
    assert [f"{r.name}: {r.getMessage()}" for r in caplog.records] == []
    assert [str(w.message) for w in seen] == []
    assert capsys.readouterr().err == ""


def test_retraining_has_every_step_and_registers_for_approval() -> None:
    document = json.loads(
        (PROJECT_ROOT / "stacks/pipelines/production-churn-classifier.json").read_text()
    )
    steps = _steps(document["Steps"])
    kinds = {name: step["Type"] for name, step in steps.items()}
    assert kinds["Gate"] == kinds["Preprocess"] == kinds["Evaluate"] == "Processing"
    assert kinds["Train"] == "Training"
    assert kinds["MetricReached"] == "Condition"
    assert kinds["Register"] == "RegisterModel"
    register = steps["Register"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == "churn-classifier"
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    container = register["InferenceSpecification"]["Containers"][0]
    assert container["Image"].endswith("churn-classifier-serving:1.4.0")
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert steps["Evaluate"]["PropertyFiles"][0]["PropertyFileName"] == "EvaluationReport"
    conditions = steps["MetricReached"]["Arguments"]["Conditions"]
    assert [c["RightValue"] for c in conditions] == [
        {"Get": "Parameters.Threshold"},
        {"Get": "Parameters.ApprovedMetric"},
    ]
    defaults = {p["Name"]: p.get("DefaultValue") for p in document["Parameters"]}
    assert defaults["Threshold"] == 0.85 and defaults["ApprovedMetric"] == 0.89
    train = steps["Train"]["Arguments"]
    assert train["HyperParameters"]["max_depth"] == "6"
    assert train["EnableNetworkIsolation"] is True
    assert train["OutputDataConfig"]["KmsKeyId"] == {"Get": "Parameters.KmsKeyId"}
    assert "mlstack-pipeline-execution-role" not in json.dumps(document)


def test_batch_transform_is_encrypted() -> None:
    document = json.loads(
        (PROJECT_ROOT / "stacks/pipelines/production-churn-classifier-batch.json").read_text()
    )
    (transform,) = document["Steps"]
    arguments = transform["Arguments"]
    assert arguments["ModelName"] == {"Get": "Parameters.ModelName"}
    assert arguments["TransformOutput"]["KmsKeyId"] == {"Get": "Parameters.KmsKeyId"}
    assert arguments["TransformResources"]["VolumeKmsKeyId"] == {"Get": "Parameters.KmsKeyId"}


def test_bad_stack_files_are_reported_in_words_all_at_once(
    project_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def typo(config: dict[str, Any]) -> None:
        config["mlstack:models"]["churn"]["retraning"] = {"enabled": True}

    edit_stack_file(project_copy, "platform", typo)
    exit_code = make_pipelines(["--project-dir", str(project_copy), "platform", "no-such-stack"])
    assert exit_code == 2
    err = capsys.readouterr().err
    assert "mlstack:models.churn.retraning" in err and "no-such-stack" in err
    assert "Traceback" not in err
