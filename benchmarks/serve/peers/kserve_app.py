"""KServe's Python model server serving the example model (``MODEL_DIR``) on ``PORT``,
V1 protocol (``POST /v1/models/iris:predict`` with ``{"instances": rows}``), one worker.
Run in the kserve peer venv: ``python kserve_app.py``. Not product code.
"""

from __future__ import annotations

import os

import joblib
import kserve
import numpy as np


class Iris(kserve.Model):
    def __init__(self) -> None:
        super().__init__("iris")
        self.model = None
        self.load()

    def load(self) -> bool:
        self.model = joblib.load(os.path.join(os.environ["MODEL_DIR"], "model.joblib"))
        self.ready = True
        return True

    def predict(self, payload: dict, headers: dict | None = None) -> dict:
        rows = np.asarray(payload["instances"], dtype=np.float64)
        return {"predictions": self.model.predict(rows).tolist()}


if __name__ == "__main__":
    server = kserve.ModelServer(
        http_port=int(os.environ["PORT"]), grpc_port=int(os.environ["GRPC_PORT"]),
        workers=1, enable_grpc=False,
    )  # fmt: skip
    server.start([Iris()])
