"""SHAP values per feature per row, for ``POST /invocations?explain=true``.

Tree models (scikit-learn's trees, forests and binary gradient boosting, XGBoost,
LightGBM, CatBoost: whatever ``shap.TreeExplainer`` reads) are explained from their own
trees, exactly and without background data. Linear models (anything with ``coef_`` and
``intercept_``: linear and logistic regression, ridge, lasso, linear SVMs) are explained
by ``shap.LinearExplainer`` against a background sample the model directory must hold as
``explain-background.npy`` (rows of typical inputs, for example 100 from the training
set): a linear model's SHAP values are relative to the mean input, which only data gives.

For each row, ``base_value + sum(shap_values) == output``, where the output is what
:class:`Explanation.output` names: the probability of the predicted class for forests
and trees of a classifier, the log-odds (decision function) of the predicted class for
linear classifiers and of the positive class for binary boosted trees and binary linear
classifiers, the prediction for regressors.

The ``shap`` library is the image's optional extra (``--build-arg WITH_SHAP=true``;
``pip install 'mlstack[explain]'``). It is imported on the first explanation, once, on
the explanation thread, never on the event loop and never for plain predictions.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from serving.errors import BadRequest

log = logging.getLogger("serving.explain")

#: How to turn explanations on, in the words every refusal uses.
ENABLE = (
    "explanations need the shap library, which this image does not have: build it with "
    "`docker build --build-arg WITH_SHAP=true ...` (or `pip install 'mlstack[explain]'`)"
)
#: The background sample of linear models, in the model directory.
BACKGROUND_FILE = "explain-background.npy"
#: Largest background sample used (rows); a larger file is subsampled evenly.
MAX_BACKGROUND_ROWS = 1000

_import_lock = threading.Lock()


@cache
def installed() -> bool:
    """Whether ``shap`` can be found (not imported: that takes seconds)."""
    return importlib.util.find_spec("shap") is not None


def _shap() -> Any:
    """The ``shap`` module, imported once (thread-safe); :class:`BadRequest` without it."""
    with _import_lock:
        try:
            import shap
        except Exception as exc:  # ImportError, or a broken install failing on import
            log.error("cannot import shap", extra={"error": f"{type(exc).__name__}: {exc}"})
            raise BadRequest(ENABLE) from None
        return shap


@dataclass(frozen=True)
class Explanation:
    """SHAP values of ``n`` rows of ``f`` features.

    Attributes:
        output: what ``base_values[i] + shap_values[i].sum()`` equals for row ``i``:
            ``probability``, ``log-odds`` or ``prediction``.
        classes: per row, the class whose output is explained (None for regressors).
        base_values: shape ``(n,)``, the model's expected output.
        shap_values: shape ``(n, f)``, each feature's contribution.
        features: the model's feature names when it was fitted with them, else None.
    """

    output: str
    classes: list[Any] | None
    base_values: np.ndarray
    shap_values: np.ndarray
    features: list[str] | None

    def document(self) -> dict[str, Any]:
        """The ``explanations`` member of the JSON answer (arrays left to orjson)."""
        return {
            "output": self.output,
            "classes": self.classes,
            "features": self.features,
            "base_values": np.ascontiguousarray(self.base_values, dtype=np.float64),
            "shap_values": np.ascontiguousarray(self.shap_values, dtype=np.float64),
        }


class Explainer:
    """Explains one fitted ``estimator``; the SHAP explainer is built on first use.

    ``model_dir`` is where a linear model's background sample is read from.
    """

    def __init__(self, estimator: Any, model_dir: Path) -> None:
        self.estimator = estimator
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._built: tuple[Any, str] | None = None
        self._refusal: BadRequest | None = None

    def explain(self, rows: np.ndarray) -> Explanation:
        """SHAP values for ``rows`` (2-D). Runs on a thread: may import shap and build
        the explainer. Raises :class:`BadRequest` when shap is missing or the model is of
        a kind SHAP cannot explain here."""
        explainer, kind = self._explainer()
        values = np.asarray(explainer.shap_values(rows), dtype=np.float64)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
        classes = getattr(self.estimator, "classes_", None)
        if values.ndim == 3:  # (rows, features, outputs): one output per class
            totals = values.sum(axis=1) + expected  # the model's outputs, by additivity
            chosen = totals.argmax(axis=1)
            picked = np.arange(len(rows))
            explained = values[picked, :, chosen]
            base = expected[chosen]
            labels = None if classes is None else np.asarray(classes)[chosen].tolist()
        else:
            explained = values.reshape(len(rows), -1)
            base = np.full(len(rows), expected[0])
            labels = None
            if classes is not None and len(classes) == 2:  # binary: the positive class
                labels = [np.asarray(classes)[1].item()] * len(rows)
        output = kind if labels is not None else "prediction"
        names = getattr(self.estimator, "feature_names_in_", None)
        features = None if names is None else [str(name) for name in names]
        return Explanation(output, labels, base, explained, features)

    def _explainer(self) -> tuple[Any, str]:
        with self._lock:
            if self._refusal is not None:
                raise self._refusal
            if self._built is None:
                shap = _shap()
                try:
                    self._built = self._build(shap)
                except BadRequest as refusal:
                    self._refusal = refusal
                    raise
                log.info("explainer ready", extra={"explainer": type(self._built[0]).__name__})
            return self._built

    def _build(self, shap: Any) -> tuple[Any, str]:
        """A SHAP explainer for the estimator and what its values add up to."""
        kind = type(self.estimator).__name__
        try:
            tree = shap.TreeExplainer(self.estimator)
        except Exception as tree_error:  # shap's InvalidModelError, or a model it trips on
            reason = str(tree_error).split("\n", 1)[0][:200]
        else:
            output = tree.model.tree_output
            return tree, "probability" if output == "probability" else "log-odds"
        if not (hasattr(self.estimator, "coef_") and hasattr(self.estimator, "intercept_")):
            raise BadRequest(
                f"a {kind} cannot be explained: SHAP explanations are available for tree "
                f"models and linear models (TreeExplainer: {reason})"
            )
        background = self._background(kind)
        try:
            return shap.LinearExplainer(self.estimator, background), "log-odds"
        except Exception as exc:
            raise BadRequest(
                f"a {kind} cannot be explained: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None

    def _background(self, kind: str) -> np.ndarray:
        path = self.model_dir / BACKGROUND_FILE
        try:
            background = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise BadRequest(
                f"explaining a linear model ({kind}) needs a background sample: save rows of "
                f"typical inputs (e.g. 100 training rows) with numpy.save as {BACKGROUND_FILE} "
                "in the model directory"
            ) from None
        except ValueError as exc:
            raise BadRequest(f"{BACKGROUND_FILE} is not a numeric .npy array: {exc}") from None
        if background.ndim != 2 or background.dtype.kind not in "biuf":
            raise BadRequest(f"{BACKGROUND_FILE} must hold a 2-D numeric array (rows, values)")
        if len(background) > MAX_BACKGROUND_ROWS:
            step = len(background) / MAX_BACKGROUND_ROWS
            background = background[(np.arange(MAX_BACKGROUND_ROWS) * step).astype(int)]
        return background.astype(np.float64)
