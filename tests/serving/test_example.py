"""``python -m serving.example DIR`` writes a servable iris model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import onnxruntime

from tests.serving.helpers import REPO


def test_example_writes_joblib_and_onnx_that_agree(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "serving.example", str(tmp_path / "model")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model_dir = tmp_path / "model"
    rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]])

    estimator = joblib.load(model_dir / "model.joblib")
    assert estimator.n_features_in_ == 4
    assert estimator.predict(rows).tolist() == ["setosa", "virginica"]

    session = onnxruntime.InferenceSession(str(model_dir / "model.onnx"))
    labels = session.run(None, {session.get_inputs()[0].name: rows.astype(np.float32)})[0]
    assert labels.tolist() == ["setosa", "virginica"]
