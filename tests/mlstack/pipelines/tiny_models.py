"""A model evaluate.py can unpickle without scikit-learn (fast to load in a subprocess)."""

from __future__ import annotations


class Doubler:
    """A regressor: predicts twice the first feature (no ``classes_``)."""

    def predict(self, rows: list[list[float]]) -> list[float]:
        return [2 * row[0] for row in rows]
