"""``python -m serving.example DIR``: write a small example model to serve.

Trains a scikit-learn random forest (100 trees, scikit-learn's default size) on the iris
data set that ships inside scikit-learn: four numeric features per row (sepal length,
sepal width, petal length, petal width, in cm) and three species as labels. Writes
``DIR/model.joblib`` and, when the ``onnx`` extra (skl2onnx) is installed,
``DIR/model.onnx``. Both predict the species name and its probabilities.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serving import logs

log = logging.getLogger("serving.example")

#: A row to try the model with (an Iris setosa from the data set).
EXAMPLE_ROW = (5.1, 3.5, 1.4, 0.2)


def train() -> Any:
    """The fitted forest; deterministic (fixed random state)."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    iris = load_iris()
    labels = iris.target_names[iris.target]
    model = RandomForestClassifier(n_estimators=100, random_state=0)
    return model.fit(iris.data, labels)


def write_joblib(model: Any, directory: Path) -> Path:
    """Save ``model`` as ``directory/model.joblib`` (a pickle: trusted readers only)."""
    import joblib

    path = directory / "model.joblib"
    joblib.dump(model, path)
    return path


def write_onnx(model: Any, directory: Path) -> Path | None:
    """Save ``model`` as ``directory/model.onnx``; None when skl2onnx is not installed."""
    try:
        from skl2onnx import to_onnx
    except ImportError:
        return None
    import numpy as np

    sample = np.asarray([EXAMPLE_ROW], dtype=np.float32)
    onnx_model = to_onnx(model, sample, options={"zipmap": False}, target_opset=17)
    path = directory / "model.onnx"
    path.write_bytes(onnx_model.SerializeToString())
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the example model; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m serving.example", description=__doc__)
    parser.add_argument("directory", type=Path, help="where to write the model files")
    args = parser.parse_args(argv)
    logs.configure()
    directory: Path = args.directory
    directory.mkdir(parents=True, exist_ok=True)
    model = train()
    written = [write_joblib(model, directory)]
    onnx_path = write_onnx(model, directory)
    if onnx_path is not None:
        written.append(onnx_path)
    else:
        log.info("skl2onnx is not installed; no model.onnx written")
    log.info("example model written", extra={"files": [str(path) for path in written]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
