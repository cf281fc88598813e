"""``POST /invocations?explain=true``: SHAP values per feature per row from a real server,
additive to the model's output; refused in words without shap, in CSV, past the row cap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
import pytest

from serving.errors import BadRequest
from serving.explain import BACKGROUND_FILE, ENABLE, Explainer
from tests.serving.conftest import StartServer
from tests.serving.helpers import ServerProcess, call, children, invoke, wait_until

if TYPE_CHECKING:  # scikit-learn is imported by the fixture: collection stays light
    from sklearn.linear_model import LogisticRegression

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
#: SHAP values of trees are exact: the sum differs from the output by rounding only.
TOLERANCE = 1e-9


def explain(port: int, rows: list[list[float]], **headers: str) -> dict:
    answer = call(port, "POST", "/invocations?explain=true", json.dumps(rows).encode(),
                  {"Content-Type": "application/json", **headers}, timeout=120)  # fmt: skip
    assert answer.status == 200, answer.body
    return answer.json()


def worker_of(server: ServerProcess) -> int:
    """The one worker (the process that loaded the model may still be on its way out)."""
    wait_until(lambda: len(children(server.pid)) == 1, "one worker process")
    (worker,) = children(server.pid)
    return worker


def test_plain_predictions_never_import_shap(example_server: ServerProcess) -> None:
    for _ in range(5):
        assert invoke(example_server.port, json.dumps(ROWS[:1]).encode()).status == 200
    worker = worker_of(example_server)
    assert "/site-packages/shap/" not in Path(f"/proc/{worker}/maps").read_text()


def test_forest_explanations_add_up_to_the_predicted_class_probability(
    example_server: ServerProcess, example_model_dir: Path
) -> None:
    answer = explain(example_server.port, ROWS)
    forest = joblib.load(example_model_dir / "model.joblib")
    probabilities = forest.predict_proba(np.asarray(ROWS))
    chosen = probabilities.argmax(axis=1)
    explanations = answer["explanations"]
    values = np.asarray(explanations["shap_values"])
    assert values.shape == (len(ROWS), 4)
    assert explanations["output"] == "probability"
    assert explanations["classes"] == answer["predictions"] == forest.classes_[chosen].tolist()
    totals = np.asarray(explanations["base_values"]) + values.sum(axis=1)
    assert np.abs(totals - probabilities[np.arange(len(ROWS)), chosen]).max() < TOLERANCE
    maps = Path(f"/proc/{worker_of(example_server)}/maps").read_text()
    assert "/site-packages/shap/" in maps  # loaded now, and only now


def test_sagemaker_custom_attributes_ask_for_explanations(example_server: ServerProcess) -> None:
    answer = invoke(
        example_server.port, b"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3", "text/csv",
        X_Amzn_SageMaker_Custom_Attributes="explain=true;probabilities=true",
    )  # fmt: skip
    assert answer.status == 200, answer.body
    document = answer.json()
    assert len(document["probabilities"]) == 2
    assert np.asarray(document["explanations"]["shap_values"]).shape == (2, 4)


def test_explanations_in_csv_are_refused_with_406(example_server: ServerProcess) -> None:
    answer = call(example_server.port, "POST", "/invocations?explain=true",
                  json.dumps(ROWS).encode(),
                  {"Content-Type": "application/json", "Accept": "text/csv"})  # fmt: skip
    assert answer.status == 406
    assert "JSON only" in answer.json()["error"]


def test_more_rows_than_the_explain_cap_get_413(example_server: ServerProcess) -> None:
    answer = call(example_server.port, "POST", "/invocations?explain=true",
                  json.dumps(ROWS * 34).encode(), {"Content-Type": "application/json"})  # fmt: skip
    assert answer.status == 413
    assert "SERVING_EXPLAIN_MAX_ROWS" in answer.json()["error"]


def test_without_shap_explanations_get_400_saying_how_to_enable_them(
    example_model_dir: Path, start_server: StartServer, tmp_path: Path
) -> None:
    # A shap that cannot be imported, found before the installed one.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "shap.py").write_text("raise ImportError('shap is blocked for this test')\n")
    server = start_server(example_model_dir, PYTHONPATH=str(blocked))
    answer = call(server.port, "POST", "/invocations?explain=true", json.dumps(ROWS).encode(),
                  {"Content-Type": "application/json"})  # fmt: skip
    assert answer.status == 400
    assert answer.json()["error"] == ENABLE
    assert "WITH_SHAP=true" in ENABLE
    assert invoke(server.port, json.dumps(ROWS).encode()).status == 200


@pytest.fixture(scope="module")
def logistic() -> tuple[LogisticRegression, np.ndarray]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(features, labels), features


def test_linear_explanations_add_up_to_the_predicted_class_log_odds(
    logistic: tuple[LogisticRegression, np.ndarray], start_server: StartServer, tmp_path: Path
) -> None:
    model, features = logistic
    joblib.dump(model, tmp_path / "model.joblib")
    np.save(tmp_path / BACKGROUND_FILE, features[::3])
    server = start_server(tmp_path)
    answer = explain(server.port, ROWS)
    margins = model.decision_function(np.asarray(ROWS))
    chosen = margins.argmax(axis=1)
    explanations = answer["explanations"]
    assert explanations["output"] == "log-odds"
    assert explanations["classes"] == model.classes_[chosen].tolist()
    totals = np.asarray(explanations["base_values"]) + np.sum(explanations["shap_values"], axis=1)
    assert np.abs(totals - margins[np.arange(len(ROWS)), chosen]).max() < TOLERANCE


def test_a_linear_model_without_background_is_refused_in_words(
    logistic: tuple[LogisticRegression, np.ndarray], tmp_path: Path
) -> None:
    explainer = Explainer(logistic[0], tmp_path)
    with pytest.raises(BadRequest, match=BACKGROUND_FILE):
        explainer.explain(np.asarray(ROWS))
