"""A user's ``code/inference.py`` with the SageMaker inference toolkit's handler names.

The module may define any of these; the missing ones get the server's defaults:

- ``model_fn(model_dir: str) -> model``: default loads ``model.joblib`` (the handlers
  get the unpickled estimator, as in the SageMaker scikit-learn container) or
  ``model.onnx`` (they get the :class:`~serving.models.onnx_model.OnnxModel`).
- ``input_fn(body: bytes, content_type: str) -> data``: default decodes JSON, CSV, npy.
- ``predict_fn(data, model) -> prediction``: default ``model.predict(data)``.
- ``output_fn(prediction, accept: str) -> bytes | str | (body, content_type)``: default
  encodes ``{"predictions": ...}`` as JSON or CSV.
- ``transform_fn(model, body, content_type, accept)``: replaces the three above.

``content_type`` is the bare media type (``application/json``); ``accept`` is the request's
``Accept`` header, ``application/json`` when missing or ``*/*``. Errors raised by
``input_fn`` are the client's (400), by ``predict_fn`` / ``output_fn`` the model's (500);
raising a :mod:`serving.errors` type chooses the status explicitly. Dependencies of the
code must be installed in the image: unlike the toolkit, ``code/requirements.txt`` is
not installed at start-up (the container is offline and non-root).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from serving.decode import decode
from serving.encode import encode
from serving.errors import BadRequest, ModelError, ModelLoadError, ServingError
from serving.media import JSON, choose_answer_type, media_type
from serving.models.base import RowModel, ServedModel
from serving.prediction import Prediction

CODE_DIR = "code"
ENTRY_POINT = "inference.py"
HANDLERS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")


class CustomModel(ServedModel):
    """Runs the handlers of ``<model_dir>/code/inference.py``.

    ``default_model`` builds the model used when the module has no ``model_fn``.
    Invocations are never batched: the handlers see exactly one request's body.
    """

    format = "custom"

    def __init__(self, model_dir: Path, default_model: Callable[[], RowModel]) -> None:
        super().__init__(model_dir)
        self.code_path = model_dir / CODE_DIR / ENTRY_POINT
        self._default_model = default_model
        self.module: ModuleType | None = None
        self.model: Any = None
        self._row_model: RowModel | None = None

    def _load(self) -> None:
        self.module = _import(self.code_path)
        model_fn = getattr(self.module, "model_fn", None)
        if model_fn is None:
            self._row_model = self._default_model()
            self._row_model.load()
            # As in the SageMaker toolkit, handlers get the estimator itself for joblib.
            self.model = getattr(self._row_model, "estimator", self._row_model)
            return
        try:
            self.model = model_fn(str(self.model_dir))
        except Exception as exc:
            raise ModelLoadError(f"model_fn failed: {type(exc).__name__}: {exc}") from exc

    def _start_worker(self) -> None:
        if self._row_model is not None:
            self._row_model.start_worker()

    def files(self) -> list[Path]:
        used = [self.code_path]
        if self._row_model is not None:
            used += self._row_model.files()
        return used

    def describe(self) -> dict[str, Any]:
        handlers = [name for name in HANDLERS if hasattr(self.module, name)]
        return {**super().describe(), "code": str(self.code_path), "handlers": handlers}

    def transform(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Run one request through the handlers; returns the body and its media type."""
        accept = JSON if not accept or accept.strip() == "*/*" else accept
        transform_fn = getattr(self.module, "transform_fn", None)
        if transform_fn is not None:
            result = _guard(ModelError, transform_fn, self.model, body, content_type, accept)
            return _response(result, accept)
        input_fn = getattr(self.module, "input_fn", None) or _default_input
        predict_fn = getattr(self.module, "predict_fn", None) or _default_predict
        output_fn = getattr(self.module, "output_fn", None) or _default_output
        data = _guard(BadRequest, input_fn, body, content_type)
        prediction = _guard(ModelError, predict_fn, data, self.model)
        return _response(_guard(ModelError, output_fn, prediction, accept), accept)


def _import(path: Path) -> ModuleType:
    if not path.is_file():
        raise ModelLoadError(f"{path} does not exist")
    # Let inference.py import its sibling modules, as the toolkit does.
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("inference", path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["inference"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ModelLoadError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _guard(kind: type[ServingError], handler: Callable[..., Any], *args: Any) -> Any:
    """Call a user handler; its failures become ``kind`` unless already typed."""
    try:
        return handler(*args)
    except ServingError:
        raise
    except Exception as exc:
        name = getattr(handler, "__name__", "handler")
        raise kind(f"{name} failed: {type(exc).__name__}: {exc}") from exc


def _response(result: Any, accept: str) -> tuple[bytes, str]:
    content_type = accept.split(",")[0].split(";")[0].strip() or JSON
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, str):
        result = result.encode()
    if not isinstance(result, (bytes, bytearray, memoryview)):
        raise ModelError(f"output_fn must return bytes or str, got {type(result).__name__}")
    return bytes(result), str(content_type)


def _default_input(body: bytes, content_type: str) -> np.ndarray:
    return decode(body, media_type(content_type))


def _default_predict(data: Any, model: Any) -> Any:
    if isinstance(model, RowModel):
        return model.predict(np.asarray(data)).outputs
    return model.predict(data)


def _default_output(prediction: Any, accept: str) -> tuple[bytes, str]:
    media = choose_answer_type(accept)
    if not isinstance(prediction, Prediction):
        prediction = Prediction(np.atleast_1d(np.asarray(prediction)))
    return encode(prediction, media), media
