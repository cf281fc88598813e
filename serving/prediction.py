"""The result of one prediction call, independent of the model library."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """Model outputs for ``n`` rows.

    Attributes:
        outputs: shape ``(n,)`` (labels or values) or ``(n, k)`` (several outputs per row).
        probabilities: shape ``(n, classes)`` when probabilities were asked for, else None.
    """

    outputs: np.ndarray
    probabilities: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.outputs.shape[0])

    def rows(self, start: int, stop: int) -> Prediction:
        """The part of this prediction that belongs to rows ``start`` up to ``stop``."""
        probabilities = None if self.probabilities is None else self.probabilities[start:stop]
        return Prediction(self.outputs[start:stop], probabilities)
