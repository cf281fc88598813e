"""The retraining pipeline's ``Evaluate`` step: score the trained candidate on the test split.

Run by the ``Evaluate`` processing step (``python3 evaluate.py --metric auc``) on the
processing image (Python 3.10 or newer), network-isolated; uploaded with the other step
scripts by the release workflow (``mlstack pipeline upload-scripts``). Needs ``joblib`` and
the model's library (scikit-learn, XGBoost's sklearn API, ...) in the processing image; the
metrics themselves are computed here with the standard library.

Inputs (the step's processing inputs): ``--model-dir`` (default ``/opt/ml/processing/model``)
holds the training job's ``model.tar.gz`` with ``model.joblib`` inside, the format the
serving image loads; ``--test-dir`` (default ``/opt/ml/processing/test``) holds CSV files
without a header, label in the first column (what ``preprocess.py`` writes).

Output: ``--output-dir`` (default ``/opt/ml/processing/evaluation``) gets ``evaluation.json``,
the pipeline's ``EvaluationReport`` property file, whose ``metrics.<metric>.value`` the
``MetricReached`` condition compares with the threshold and the approved version's value::

    {"metric": "auc", "problem": "binary_classification", "rows": 1200,
     "metrics": {"auc": {"value": 0.91}, "accuracy": {"value": 0.88}, ...}}

Every metric written is higher-is-better: ``auc``, ``accuracy``, ``precision``, ``recall`` and
``f1`` for a binary classifier (positive class: the model's second class), ``accuracy`` for
more classes, ``r2`` for a regressor. ``--metric`` naming one the model's kind has no value
for exits 2 with the ones it has.

The model file is a pickle: it runs code when loaded. It comes from this pipeline's own
training step, in the stack's bucket, never from a request.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL_DIR = Path("/opt/ml/processing/model")
TEST_DIR = Path("/opt/ml/processing/test")
OUTPUT_DIR = Path("/opt/ml/processing/evaluation")
REPORT = "evaluation.json"
MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "model.joblib"


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative,
    ties counting half (the Mann-Whitney U statistic over the average ranks)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    positives = sum(1 for label in labels if label == 1)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("the test split holds one class only: AUC is undefined")
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def binary_metrics(
    labels: Sequence[int], predicted: Sequence[int], scores: Sequence[float]
) -> dict[str, float]:
    true_positive = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 1)
    false_positive = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 0 and p == 1)
    false_negative = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 0)
    correct = sum(1 for y, p in zip(labels, predicted, strict=True) if y == p)
    precision = true_positive / (true_positive + false_positive) if true_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "auc": auc(labels, scores),
        "accuracy": correct / len(labels),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def r2(labels: Sequence[float], predicted: Sequence[float]) -> float:
    mean = sum(labels) / len(labels)
    total = sum((y - mean) ** 2 for y in labels)
    residual = sum((y - p) ** 2 for y, p in zip(labels, predicted, strict=True))
    return 1 - residual / total if total else 0.0


def read_test_rows(directory: Path) -> tuple[list[float], list[list[float]]]:
    """Labels and feature rows of every CSV file under ``directory``."""
    labels: list[float] = []
    features: list[list[float]] = []
    files = sorted(p for p in directory.rglob("*.csv") if p.is_file())
    if not files:
        raise ValueError(f"no *.csv file under {directory}")
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                try:
                    values = [float(v) for v in row]
                except ValueError:
                    raise ValueError(
                        f"{path.name} line {number}: not all numbers (a header row?)"
                    ) from None
                labels.append(values[0])
                features.append(values[1:])
    if not labels:
        raise ValueError(f"the CSV files under {directory} hold no rows")
    return labels, features


def load_model(directory: Path, scratch: Path) -> Any:
    """The ``model.joblib`` inside ``directory/model.tar.gz`` (or a bare ``model.joblib``)."""
    import joblib

    archive = directory / MODEL_ARCHIVE
    if archive.is_file():
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(scratch, filter="data")
            else:  # Python before 3.11.4: refuse members that leave the directory
                for member in tar.getmembers():
                    target = (scratch / member.name).resolve()
                    if not target.is_relative_to(scratch.resolve()) or not (
                        member.isfile() or member.isdir()
                    ):
                        raise ValueError(f"{archive.name}: unsafe member {member.name}")
                tar.extractall(scratch)
        directory = scratch
    found = sorted(directory.rglob(MODEL_FILE))
    if not found:
        raise ValueError(f"no {MODEL_FILE} in {MODEL_ARCHIVE} under {directory}")
    return joblib.load(found[0])


def evaluate(model: Any, labels: list[float], features: list[list[float]]) -> tuple[str, dict]:
    """The problem kind and every higher-is-better metric of ``model`` on the rows."""
    classes = list(getattr(model, "classes_", []))
    if not classes:
        return "regression", {"r2": r2(labels, [float(p) for p in model.predict(features)])}
    predicted = [float(p) for p in model.predict(features)]
    if len(classes) != 2:
        correct = sum(1 for y, p in zip(labels, predicted, strict=True) if y == p)
        return "multiclass_classification", {"accuracy": correct / len(labels)}
    positive = float(classes[1])
    if hasattr(model, "predict_proba"):
        scores = [float(row[1]) for row in model.predict_proba(features)]
    elif hasattr(model, "decision_function"):
        scores = [float(s) for s in model.decision_function(features)]
    else:
        scores = predicted
    binary_labels = [1 if y == positive else 0 for y in labels]
    binary_predicted = [1 if p == positive else 0 for p in predicted]
    return "binary_classification", binary_metrics(binary_labels, binary_predicted, scores)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Write the evaluation report; returns it. Exit 2 when it cannot be computed."""
    parser = argparse.ArgumentParser(prog="evaluate.py", description=__doc__.split("\n")[0])
    parser.add_argument("--metric", required=True, help="the metric the pipeline compares")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--test-dir", type=Path, default=TEST_DIR)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    try:
        labels, features = read_test_rows(args.test_dir)
        with tempfile.TemporaryDirectory() as scratch:
            model = load_model(args.model_dir, Path(scratch))
        problem, metrics = evaluate(model, labels, features)
    except (OSError, ValueError) as err:
        print(f"evaluate.py: {err}", file=sys.stderr)
        sys.exit(2)
    if args.metric not in metrics or not math.isfinite(metrics[args.metric]):
        print(
            f"evaluate.py: --metric {args.metric}: a {problem.replace('_', ' ')} model has "
            f"{', '.join(sorted(metrics))}; set mlstack:model.retraining.metric to one of them",
            file=sys.stderr,
        )
        sys.exit(2)
    report = {
        "metric": args.metric,
        "problem": problem,
        "rows": len(labels),
        "metrics": {name: {"value": value} for name, value in sorted(metrics.items())},
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(json.dumps({"metric": args.metric, "value": metrics[args.metric], "rows": len(labels)}))
    return report


if __name__ == "__main__":
    main()
