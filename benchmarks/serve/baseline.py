"""The baseline: the seed pattern, Flask on gunicorn, serving the same model and contract.

This is how the SageMaker scikit-learn container (through the SageMaker inference
toolkit) and most hand-written model servers work: a WSGI app that unpickles the model
at import, ``/ping`` and ``/invocations`` decoding JSON or CSV with the standard library
and NumPy. It answers the same ``{"predictions": [...]}`` contract as ``serving`` so the
load generator sends identical requests to both. Not product code.

Run: ``MODEL_DIR=DIR gunicorn -w 1 -k gevent -b 127.0.0.1:PORT benchmarks.serve.baseline:app``
"""

from __future__ import annotations

import io
import json
import os

import joblib
import numpy as np
from flask import Flask, Response, request

app = Flask(__name__)
MODEL = joblib.load(os.path.join(os.environ.get("MODEL_DIR", "/opt/ml/model"), "model.joblib"))


@app.get("/ping")
def ping() -> Response:
    """200 once the module (and so the model) is loaded."""
    return Response("{}", status=200, mimetype="application/json")


@app.post("/invocations")
def invocations() -> Response:
    """Decode JSON or CSV rows, predict, answer JSON or CSV."""
    content_type = (request.content_type or "application/json").split(";")[0]
    body = request.get_data()
    try:
        if content_type == "application/json":
            document = json.loads(body)
            rows = np.array(document["instances"] if isinstance(document, dict) else document)
        elif content_type == "text/csv":
            rows = np.genfromtxt(io.StringIO(body.decode()), delimiter=",", ndmin=2)
        else:
            return Response('{"error": "unsupported content type"}', status=415)
    except (ValueError, KeyError, TypeError):
        return Response('{"error": "bad request"}', status=400, mimetype="application/json")
    predictions = MODEL.predict(rows)
    if "text/csv" in (request.headers.get("Accept") or ""):
        return Response("\n".join(map(str, predictions)) + "\n", mimetype="text/csv")
    return Response(json.dumps({"predictions": predictions.tolist()}), mimetype="application/json")
