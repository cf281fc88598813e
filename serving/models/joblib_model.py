"""scikit-learn (or any object with ``predict``) pickled with joblib in ``model.joblib``.

Security: loading a joblib (pickle) file runs code chosen by whoever wrote it. Serve
only files produced by the team's own training pipeline and fetched from its own model
registry (the SageMaker model package group / artefact bucket), never user uploads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from serving.errors import BadRequest, ModelError, ModelLoadError
from serving.explain import Explainer
from serving.models.base import RowModel
from serving.prediction import Prediction

FILENAME = "model.joblib"


class JoblibModel(RowModel):
    """An estimator from ``<model_dir>/model.joblib``.

    ``predict`` is required; ``predict_proba`` enables probabilities; ``n_features_in_``
    (set by scikit-learn when fitting) enables the row-width check.
    """

    format = "joblib"

    def __init__(
        self, model_dir: Path, filename: str = FILENAME, input_dtype: str = "auto"
    ) -> None:
        super().__init__(model_dir, input_dtype)
        self.path = model_dir / filename
        self.estimator: Any = None

    def files(self) -> list[Path]:
        return [self.path]

    def _load(self) -> None:
        import joblib  # deferred: only this format needs it

        try:
            self.estimator = joblib.load(self.path)
        except FileNotFoundError:
            raise ModelLoadError(f"{self.path} does not exist") from None
        except Exception as exc:
            raise ModelLoadError(f"cannot load {self.path}: {type(exc).__name__}: {exc}") from exc
        if not callable(getattr(self.estimator, "predict", None)):
            kind = type(self.estimator).__name__
            raise ModelLoadError(f"{self.path} holds a {kind}, which has no predict method")

    @property
    def n_features(self) -> int | None:
        count = getattr(self.estimator, "n_features_in_", None)
        return int(count) if isinstance(count, (int, np.integer)) else None

    @property
    def supports_probabilities(self) -> bool:
        return callable(getattr(self.estimator, "predict_proba", None))

    def explainer(self) -> Explainer:
        """SHAP explanations of the estimator (tree and linear models)."""
        return Explainer(self.estimator, self.model_dir)

    def predict(self, rows: np.ndarray, probabilities: bool = False) -> Prediction:
        outputs = call_model(self.estimator.predict, rows)
        proba = call_model(self.estimator.predict_proba, rows) if probabilities else None
        return Prediction(outputs, proba)


def call_model(method: Any, rows: np.ndarray) -> np.ndarray:
    """Call a scikit-learn style method and sort its failures.

    scikit-learn reports bad input values (NaN, infinity, strings where numbers belong)
    with ``ValueError`` or ``TypeError``: those become 400. Other exceptions are model
    failures: 500.
    """
    try:
        result = np.asarray(method(rows))
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"the model rejected the input: {exc}") from exc
    except Exception as exc:
        raise ModelError(f"the model failed: {type(exc).__name__}: {exc}") from exc
    if result.ndim == 0 or result.shape[0] != rows.shape[0]:
        raise ModelError(f"the model returned {result.shape} for {rows.shape[0]} rows")
    return result
