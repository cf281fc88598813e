"""Model formats and the choice between them.

``auto`` (the default) looks in the model directory in this order: ``code/inference.py``
(custom handlers, see :mod:`serving.models.custom`), ``model.joblib``, ``model.onnx``.
The first artefact found wins, whichever libraries are installed, so the same directory
always serves the same way. ``custom`` requires ``code/inference.py``. ``joblib`` and
``onnx`` load that one file and nothing else: with them, code in the model directory is
never imported, so an ONNX-only deployment runs no Python from its artefacts.
"""

from __future__ import annotations

import os
from pathlib import Path

from serving.errors import ModelLoadError
from serving.models.base import RowModel, ServedModel
from serving.models.custom import CODE_DIR, ENTRY_POINT, CustomModel
from serving.models.joblib_model import FILENAME as JOBLIB_FILE
from serving.models.joblib_model import JoblibModel
from serving.models.onnx_model import FILENAME as ONNX_FILE
from serving.models.onnx_model import OnnxModel

__all__ = ["CustomModel", "JoblibModel", "OnnxModel", "RowModel", "ServedModel", "resolve"]


def resolve(
    model_dir: Path, model_format: str = "auto", onnx_threads: int = 1, input_dtype: str = "auto"
) -> ServedModel:
    """The (not yet loaded) model for ``model_dir``.

    Raises :class:`ModelLoadError` when the directory is missing or holds no artefact
    for ``model_format`` (``auto``, ``custom``, ``joblib`` or ``onnx``).
    """
    if not model_dir.is_dir():
        raise ModelLoadError(f"model directory {model_dir} does not exist (set MODEL_DIR)")
    if not os.access(model_dir, os.R_OK | os.X_OK):
        raise ModelLoadError(
            f"model directory {model_dir} is not readable by uid {os.getuid()}: package "
            "model.tar.gz with world-readable files (0644) and directories (0755), or build "
            "the image with --build-arg SERVING_USER=0:0"
        )
    code = model_dir / CODE_DIR / ENTRY_POINT

    def row_model() -> RowModel:
        row_format = "auto" if model_format == "custom" else model_format
        return _row_model(model_dir, row_format, onnx_threads, input_dtype)

    if model_format == "custom" and not code.is_file():
        raise ModelLoadError(f"SERVING_MODEL_FORMAT=custom needs {code}, which does not exist")
    if model_format in ("auto", "custom") and code.is_file():
        return CustomModel(model_dir, default_model=row_model)
    return row_model()


def _row_model(model_dir: Path, model_format: str, onnx_threads: int, input_dtype: str) -> RowModel:
    if model_format == "joblib" or (model_format == "auto" and (model_dir / JOBLIB_FILE).exists()):
        return JoblibModel(model_dir, input_dtype=input_dtype)
    if model_format in ("onnx", "auto") and (model_dir / ONNX_FILE).exists():
        return OnnxModel(model_dir, threads=onnx_threads, input_dtype=input_dtype)
    if model_format == "onnx":
        raise ModelLoadError(f"{model_dir / ONNX_FILE} does not exist")
    raise ModelLoadError(
        f"{model_dir} holds none of {JOBLIB_FILE}, {ONNX_FILE}, {CODE_DIR}/{ENTRY_POINT}"
    )
