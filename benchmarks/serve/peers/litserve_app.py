"""LitServe with batching, serving the example model (``MODEL_DIR``) on ``PORT``.

Requests of any row count are batched: ``batch`` concatenates them and ``unbatch``
splits the predictions back, as LitServe's docs show for variable-size inputs.
Run in the litserve peer venv: ``python litserve_app.py``. Not product code.
"""

from __future__ import annotations

import os

import joblib
import litserve as ls
import numpy as np

MAX_BATCH_SIZE = int(os.environ.get("PEER_MAX_BATCH_SIZE", "64"))
BATCH_TIMEOUT_SECONDS = float(os.environ.get("PEER_BATCH_TIMEOUT_SECONDS", "0.005"))


class Iris(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.model = joblib.load(os.path.join(os.environ["MODEL_DIR"], "model.joblib"))
        self.sizes: list[int] = []

    def decode_request(self, request: dict) -> np.ndarray:
        return np.asarray(request["instances"], dtype=np.float64)

    def batch(self, inputs: list[np.ndarray]) -> np.ndarray:
        self.sizes = [len(rows) for rows in inputs]
        return np.concatenate(inputs)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict(rows)

    def unbatch(self, output: np.ndarray) -> list[np.ndarray]:
        return np.split(output, np.cumsum(self.sizes)[:-1])

    def encode_response(self, output: np.ndarray) -> dict:
        return {"predictions": output.tolist()}


if __name__ == "__main__":
    api = Iris(max_batch_size=MAX_BATCH_SIZE, batch_timeout=BATCH_TIMEOUT_SECONDS)
    server = ls.LitServer(api, accelerator="cpu", devices=1, workers_per_device=1)
    server.run(host="127.0.0.1", port=int(os.environ["PORT"]), generate_client_file=False)
