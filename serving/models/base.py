"""The model object the server drives: load and predict hooks and a ready flag."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from serving.errors import BadRequest
from serving.explain import Explainer
from serving.prediction import Prediction


class ServedModel(ABC):
    """A model behind ``/invocations``: the lifecycle every kind of model shares.

    :meth:`load` runs once in the server's main process, before workers fork, so the
    weights are read once and shared copy-on-write; :meth:`start_worker` runs in each
    worker after the fork (for libraries whose state does not survive one). :attr:`ready`
    is true only after both, and ``/ping`` answers 200 only then.
    """

    #: Short name of the format, for logs.
    format = "base"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._loaded = False
        self._started = False

    @property
    def ready(self) -> bool:
        """True once the model is loaded and this process may predict with it."""
        return self._loaded and self._started

    def load(self) -> None:
        """Read the artefacts (main process, before fork). Raises ``ModelLoadError``."""
        self._load()
        self._loaded = True

    def start_worker(self) -> None:
        """Finish preparing in a worker process, after the fork."""
        self._start_worker()
        self._started = True

    @abstractmethod
    def _load(self) -> None: ...

    def _start_worker(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Per-worker preparation; nothing by default."""

    def describe(self) -> dict[str, Any]:
        """Facts for the start-up log line: the format and the files it read."""
        return {"format": self.format, "files": [str(path) for path in self.files()]}

    def files(self) -> list[Path]:
        """The artefacts this model reads (or read) from the model directory."""
        return []


#: ``SERVING_INPUT_DTYPE`` names; ``object`` (None) means any scalars.
INPUT_DTYPES: dict[str, np.dtype[Any] | None] = {
    "float64": np.dtype(np.float64),
    "float32": np.dtype(np.float32),
    "object": None,
}


class RowModel(ServedModel):
    """A model that maps a 2-D array of rows to one prediction per row.

    The server decodes bodies and encodes answers for it. Rows from concurrent requests
    may be stacked into one :meth:`predict` call when :attr:`batchable` is true, which
    requires that each output row depends only on its own input row. ``input_dtype`` is
    a ``SERVING_INPUT_DTYPE`` name (default ``auto``).
    """

    #: Whether rows of several requests may be predicted in one call.
    batchable = True

    def __init__(self, model_dir: Path, input_dtype: str = "auto") -> None:
        super().__init__(model_dir)
        self.input_dtype_name = input_dtype

    @property
    def input_dtype(self) -> np.dtype[Any] | None:
        """The dtype rows are decoded into; None lets cells be any scalars (object)."""
        return INPUT_DTYPES.get(self.input_dtype_name, self._default_dtype())

    def _default_dtype(self) -> np.dtype[Any] | None:
        """The dtype for ``auto``: float64 unless the format knows better."""
        return np.dtype(np.float64)

    @property
    def n_features(self) -> int | None:
        """Values per row the model expects, when it says; None when unknown."""
        return None

    @property
    def supports_probabilities(self) -> bool:
        """Whether :meth:`predict` can return class probabilities."""
        return False

    def explainer(self) -> Explainer | None:
        """What explains this model's predictions (``?explain=true``); None: nothing."""
        return None

    def check_rows(self, rows: np.ndarray) -> None:
        """Reject rows of the wrong width before they reach the model (400)."""
        expected = self.n_features
        if expected is not None and rows.shape[1] != expected:
            raise BadRequest(f"rows must have {expected} values each, got {rows.shape[1]}")

    @abstractmethod
    def predict(self, rows: np.ndarray, probabilities: bool = False) -> Prediction:
        """Predict for ``rows`` (2-D); with ``probabilities``, class probabilities too.

        Raises ``BadRequest`` when the model rejects the input's values and ``ModelError``
        when it fails for another reason.
        """

    def describe(self) -> dict[str, Any]:
        """Facts for the start-up log line."""
        dtype = self.input_dtype
        return {
            **super().describe(),
            "input_dtype": "object" if dtype is None else dtype.name,
            "n_features": self.n_features,
            "probabilities": self.supports_probabilities,
        }
