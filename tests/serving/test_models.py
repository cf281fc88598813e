"""Each model format behind the same contract: joblib, ONNX, and custom inference.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.serving.conftest import StartServer
from tests.serving.helpers import invoke

ROWS = b"[[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 4.2, 1.5]]"

CUSTOM_HANDLERS = """
import json

def input_fn(body, content_type):
    if content_type != "text/plain":
        raise ValueError("send text/plain")
    return [[float(v) for v in line.split()] for line in body.decode().splitlines()]

def output_fn(prediction, accept):
    return " ".join(str(p) for p in prediction) + "\\n", "text/plain"
"""


def test_onnx_model_answers_like_the_joblib_one(
    start_server: StartServer, example_model_dir: Path, tmp_path: Path
) -> None:
    onnx_only = tmp_path / "onnx"
    onnx_only.mkdir()
    shutil.copy(example_model_dir / "model.onnx", onnx_only)
    onnx = start_server(onnx_only)
    joblib = start_server(example_model_dir)

    onnx_answer = invoke(onnx.port, ROWS, X_Amzn_SageMaker_Custom_Attributes="probabilities=true")
    joblib_answer = invoke(
        joblib.port, ROWS, X_Amzn_SageMaker_Custom_Attributes="probabilities=true"
    )
    assert onnx_answer.status == joblib_answer.status == 200
    assert onnx_answer.json()["predictions"] == joblib_answer.json()["predictions"]
    for ours, theirs in zip(
        onnx_answer.json()["probabilities"], joblib_answer.json()["probabilities"], strict=True
    ):
        assert ours == pytest.approx(theirs, abs=1e-4)
    assert invoke(onnx.port, b"[[1, 2]]").status == 400
    assert '"format":"onnx"' in onnx.log()


def test_onnx_can_be_chosen_over_joblib(start_server: StartServer, example_model_dir: Path) -> None:
    server = start_server(example_model_dir, SERVING_MODEL_FORMAT="onnx")
    assert invoke(server.port, ROWS).json()["predictions"] == ["setosa", "virginica", "versicolor"]
    assert '"format":"onnx"' in server.log()


def test_custom_handlers_wrap_the_default_model(
    start_server: StartServer, example_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "custom"
    shutil.copytree(example_model_dir, model_dir)
    (model_dir / "code").mkdir()
    (model_dir / "code" / "inference.py").write_text(CUSTOM_HANDLERS)
    server = start_server(model_dir)

    answer = invoke(server.port, b"5.1 3.5 1.4 0.2\n6.2 3.4 5.4 2.3\n", "text/plain")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.body == b"setosa virginica\n"
    # input_fn failures are the client's
    refused = invoke(server.port, ROWS)
    assert refused.status == 400
    assert "send text/plain" in refused.json()["error"]
    assert '"format":"custom"' in server.log()
