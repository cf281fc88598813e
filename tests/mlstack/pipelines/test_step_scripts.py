"""The step scripts the retraining pipeline runs: each processing step's script is read from
its content-addressed key; preprocess.py splits raw CSV where the step mounts it; and the
evaluation report evaluate.py writes is the property file the MetricReached condition reads,
at the path its JsonGet reads, with the value a reference implementation gives."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from mlstack.pipelines.code import evaluate, preprocess
from mlstack.pipelines.scripts import SOURCE_DIR, STEP_SCRIPTS, pipeline_steps
from mlstack.project import PROJECT_ROOT

DEFINITION = PROJECT_ROOT / "stacks/pipelines/production-churn-classifier.json"
BUCKET = {"Get": "Parameters.ArtifactsBucket"}


def _steps(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Every step of a definition by name, those under condition steps included."""
    return {step["Name"]: step for step in pipeline_steps(steps)}


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    return _steps(json.loads(DEFINITION.read_text())["Steps"])


def _inputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}


def _outputs(step: dict[str, Any]) -> dict[str, str]:
    outputs = step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    return {o["OutputName"]: o["S3Output"]["LocalPath"] for o in outputs}


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The script as the processing step runs it: a file, alone (the project on the path
    only so that a test's model class unpickles)."""
    return subprocess.run(
        [sys.executable, str(SOURCE_DIR / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )


@pytest.mark.parametrize("name", ["Gate", "Preprocess", "Evaluate"])
def test_each_step_runs_its_script_from_its_content_addressed_key(
    steps: dict[str, dict[str, Any]], name: str
) -> None:
    step = steps[name]
    entrypoint = step["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
    assert entrypoint[0] == "python3"
    local, script = entrypoint[1].rsplit("/", 1)
    assert script in STEP_SCRIPTS
    code = _inputs(step)["code"]
    assert code["LocalPath"] == local
    values = code["S3Uri"]["Std:Join"]["Values"]
    assert values[:2] == ["s3:/", BUCKET]
    key = "/".join(values[2:])
    prefix, digest, name_in_key = key.rsplit("/", 2)
    assert prefix == "pipelines/churn-classifier/code"  # the stack's retraining.codePrefix
    assert name_in_key == script
    assert digest == hashlib.sha256((SOURCE_DIR / script).read_bytes()).hexdigest()


def test_scripts_import_only_what_the_processing_image_has() -> None:
    """The scripts run alone in the processing image: the standard library, boto3 (gate)
    and joblib (evaluate), never the kit."""
    allowed = {*sys.stdlib_module_names, "__future__", "boto3", "joblib"}
    for script in STEP_SCRIPTS:
        tree = ast.parse((SOURCE_DIR / script).read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] in allowed, f"{script} imports {name}"


def _raw_rows(count: int, seed: int = 7) -> list[str]:
    import random

    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        tenure, charges = rng.uniform(0, 72), rng.uniform(20, 120)
        churn = 1 if charges / 120 - tenure / 72 + rng.gauss(0, 0.3) > 0 else 0
        rows.append(f"{churn},{tenure:.3f},{charges:.3f}")
    return rows


def test_preprocess_splits_every_row_where_the_step_mounts_them(
    steps: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    step = steps["Preprocess"]
    assert _inputs(step)["raw"]["LocalPath"] == str(preprocess.INPUT_DIR)
    mounted = _outputs(step)
    assert mounted == {s: str(preprocess.OUTPUT_DIR / s) for s in preprocess.SPLITS}
    raw, out = tmp_path / "raw", tmp_path / "out"
    (raw / "2026").mkdir(parents=True)
    rows = _raw_rows(400)
    (raw / "a.csv").write_text("churn,tenure,charges\n" + "\n".join(rows[:250]) + "\n")
    (raw / "2026" / "b.csv").write_text("churn,tenure,charges\n" + "\n".join(rows[250:]) + "\n")
    args = ["--input-dir", str(raw), "--output-dir", str(out), "--header"]
    done = _run("preprocess.py", *args)
    assert done.returncode == 0, done.stderr
    split = {s: (out / s / "data.csv").read_text().splitlines() for s in preprocess.SPLITS}
    assert sorted(r for s in split.values() for r in s) == sorted(rows), "each row once, no header"
    assert 0.6 < len(split["train"]) / len(rows) < 0.8
    assert split["test"] and split["validation"]
    # More raw data later: every earlier test row is still a test row.
    (raw / "c.csv").write_text("churn,tenure,charges\n" + "\n".join(_raw_rows(200, 8)) + "\n")
    again = tmp_path / "again"
    assert _run("preprocess.py", *args[:2], "--output-dir", str(again), "--header").returncode == 0
    later = set((again / "test" / "data.csv").read_text().splitlines())
    assert set(split["test"]) <= later


def test_preprocess_without_input_says_where_it_looked(tmp_path: Path) -> None:
    done = _run("preprocess.py", "--input-dir", str(tmp_path), "--output-dir", str(tmp_path))
    assert done.returncode == 1
    assert f"no *.csv file under {tmp_path}" in done.stderr


def _json_get(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[part]
    return document


def _write_model(model: Any, directory: Path) -> None:
    import joblib

    directory.mkdir(parents=True)
    joblib.dump(model, directory / "model.joblib")
    with tarfile.open(directory / "model.tar.gz", "w:gz") as tar:
        tar.add(directory / "model.joblib", arcname="model.joblib")
    (directory / "model.joblib").unlink()


def test_evaluation_report_is_what_the_condition_reads(
    steps: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    step = steps["Evaluate"]
    # SageMaker runs the script without path arguments: its defaults are the step's mounts.
    inputs = _inputs(step)
    assert inputs["model"]["LocalPath"] == str(evaluate.MODEL_DIR)
    assert inputs["test"]["LocalPath"] == str(evaluate.TEST_DIR)
    (property_file,) = step["PropertyFiles"]
    assert _outputs(step)[property_file["OutputName"]] == str(evaluate.OUTPUT_DIR)
    (left,) = {c["LeftValue"]["Std:JsonGet"]["Path"] for c in _conditions(steps)}
    reference = {c["LeftValue"]["Std:JsonGet"]["PropertyFile"]["Get"] for c in _conditions(steps)}
    assert reference == {f"Steps.Evaluate.PropertyFiles.{property_file['PropertyFileName']}"}

    rows = _raw_rows(600)
    train = [[float(v) for v in r.split(",")] for r in rows[:400]]
    model = LogisticRegression().fit([r[1:] for r in train], [int(r[0]) for r in train])
    _write_model(model, tmp_path / "model")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "data.csv").write_text("\n".join(rows[400:]) + "\n")
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    done = _run(
        "evaluate.py",
        *arguments,
        "--model-dir",
        str(tmp_path / "model"),
        "--test-dir",
        str(tmp_path / "test"),
        "--output-dir",
        str(tmp_path / "evaluation"),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "evaluation" / property_file["FilePath"]).read_text())
    value = _json_get(report, left)
    test = [[float(v) for v in r.split(",")] for r in rows[400:]]
    expected = roc_auc_score([r[0] for r in test], model.predict_proba([r[1:] for r in test])[:, 1])
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-12)
    assert 0.5 < value <= 1.0, "the synthetic data is learnable"


def _conditions(steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return steps["MetricReached"]["Arguments"]["Conditions"]


def test_evaluation_of_a_metric_the_model_has_not_exits_two(tmp_path: Path) -> None:
    from tests.mlstack.pipelines.tiny_models import Doubler

    _write_model(Doubler(), tmp_path / "m")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "data.csv").write_text("".join(f"{2 * i},{i}\n" for i in range(20)))
    args = [
        "--metric",
        "auc",
        "--model-dir",
        str(tmp_path / "m"),
        "--test-dir",
        str(tmp_path / "t"),
    ]
    done = _run("evaluate.py", *args, "--output-dir", str(tmp_path / "e"))
    assert done.returncode == 2
    assert "--metric auc: a regression model has r2;" in done.stderr
    assert not (tmp_path / "e").exists()
    done = _run("evaluate.py", *args[2:], "--metric", "r2", "--output-dir", str(tmp_path / "e"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert report["metrics"] == {"r2": {"value": 1.0}} and report["rows"] == 20


def test_auc_counts_ties_as_half() -> None:
    assert evaluate.auc([0, 1, 0, 1], [0.1, 0.9, 0.5, 0.5]) == pytest.approx(0.875)
    assert evaluate.auc([1, 0], [0.2, 0.8]) == 0.0
