"""An ONNX model in ``model.onnx``, run by onnxruntime (the optional ``onnx`` extra).

Unlike joblib, an ONNX file is data, not code: loading it cannot run arbitrary Python.
The first graph input receives the rows, cast to its element type; the first output is
the prediction and, when there is one, the second output holds class probabilities (as
written by skl2onnx; a ZipMap output of per-class dicts is turned into columns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from serving.errors import BadRequest, ModelError, ModelLoadError
from serving.models.base import RowModel
from serving.prediction import Prediction

FILENAME = "model.onnx"

_ELEMENT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxModel(RowModel):
    """A graph from ``<model_dir>/model.onnx`` on onnxruntime's CPU provider.

    The file is read and checked in the main process; each worker builds its own session
    after the fork, because onnxruntime's thread pools do not survive ``fork()``.
    ``threads`` is the intra-op thread count per worker (0 lets onnxruntime decide).
    """

    format = "onnx"

    def __init__(
        self, model_dir: Path, filename: str = FILENAME, threads: int = 1, input_dtype: str = "auto"
    ) -> None:
        super().__init__(model_dir, input_dtype)
        self.path = model_dir / filename
        self.threads = threads
        self._bytes = b""
        self._session: Any = None
        self._input_name = ""
        self._input_type: Any = np.float32
        self._n_features: int | None = None
        self._output_names: list[str] = []

    def _load(self) -> None:
        try:
            import onnxruntime  # noqa: F401 - fail early with a clear message
        except ImportError:
            raise ModelLoadError(
                f"{self.path} needs onnxruntime: install the serving image with the onnx extra"
            ) from None
        try:
            self._bytes = self.path.read_bytes()
        except FileNotFoundError:
            raise ModelLoadError(f"{self.path} does not exist") from None
        # A single-threaded session spawns no thread pool, so it is safe to build and drop
        # before forking; it validates the graph and tells us its signature.
        session = self._session_for(threads=1)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if not inputs or not outputs:
            raise ModelLoadError(f"{self.path} must have at least one input and one output")
        first = inputs[0]
        self._input_name = first.name
        self._input_type = _ELEMENT_TYPES.get(first.type)
        if self._input_type is None:
            raise ModelLoadError(f"{self.path}: input type {first.type} is not supported")
        shape = list(first.shape or [])
        if len(shape) == 2 and isinstance(shape[1], int):
            self._n_features = shape[1]
        self._output_names = [output.name for output in outputs]

    def files(self) -> list[Path]:
        return [self.path]

    def _default_dtype(self) -> np.dtype[Any] | None:
        kind = np.dtype(self._input_type)
        return None if kind.kind == "O" else kind

    def _session_for(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            return onnxruntime.InferenceSession(
                self._bytes, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelLoadError(f"cannot load {self.path}: {exc}") from exc

    def _start_worker(self) -> None:
        self._session = self._session_for(threads=self.threads)

    @property
    def n_features(self) -> int | None:
        return self._n_features

    @property
    def supports_probabilities(self) -> bool:
        return len(self._output_names) > 1

    def predict(self, rows: np.ndarray, probabilities: bool = False) -> Prediction:
        from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

        try:
            feed = rows.astype(self._input_type, copy=False)
        except (ValueError, TypeError) as exc:
            raise BadRequest(f"the model rejected the input: {exc}") from None
        wanted = self._output_names[:2] if probabilities else self._output_names[:1]
        try:
            results = self._session.run(wanted, {self._input_name: feed})
        except InvalidArgument as exc:
            raise BadRequest(f"the model rejected the input: {exc}") from None
        except Exception as exc:
            raise ModelError(f"the model failed: {type(exc).__name__}: {exc}") from exc
        outputs = np.asarray(results[0])
        if outputs.ndim == 0 or outputs.shape[0] != rows.shape[0]:
            raise ModelError(f"the model returned {outputs.shape} for {rows.shape[0]} rows")
        proba = _probability_columns(results[1]) if probabilities else None
        return Prediction(outputs, proba)


def _probability_columns(value: Any) -> np.ndarray:
    if isinstance(value, list) and value and isinstance(value[0], dict):  # ZipMap
        keys = sorted(value[0])
        return np.asarray([[row[key] for key in keys] for row in value], dtype=np.float64)
    return np.asarray(value)
