"""A custom ``code/inference.py`` whose loading and predicting wait for gate files.

Tests open a gate by creating its file, so "slow" is decided by the test, never by a
clock: while ``load.gate`` is missing ``model_fn`` waits; while ``predict.gate`` is
missing ``predict_fn`` waits (and says so by creating ``predicting-<n>`` markers).
"""

from __future__ import annotations

from pathlib import Path

INFERENCE_PY = """
import itertools
import json
import time
from pathlib import Path

GATES = Path(__file__).resolve().parents[1]
_calls = itertools.count()


def _wait_for(name):
    while not (GATES / name).exists():
        time.sleep(0.01)


def model_fn(model_dir):
    _wait_for("load.gate")
    return "gated-model"


def input_fn(body, content_type):
    return json.loads(body or b"null")


def predict_fn(data, model):
    (GATES / f"predicting-{next(_calls)}").touch()
    _wait_for("predict.gate")
    if data == "fail":
        raise RuntimeError("the model broke")
    return {"model": model, "echo": data}


def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""


def make_gated_model(directory: Path, *, loaded: bool = True, predicting: bool = True) -> Path:
    """Write the gated model to ``directory``; gates start open or closed as asked."""
    (directory / "code").mkdir(parents=True, exist_ok=True)
    (directory / "code" / "inference.py").write_text(INFERENCE_PY)
    if loaded:
        open_gate(directory, "load")
    if predicting:
        open_gate(directory, "predict")
    return directory


def open_gate(directory: Path, name: str) -> None:
    (directory / f"{name}.gate").touch()


def predictions_started(directory: Path) -> int:
    return len(list(directory.glob("predicting-*")))
