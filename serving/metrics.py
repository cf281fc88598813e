"""Prometheus metrics, summed over all worker processes.

The server runs several processes, so metrics use prometheus_client's multiprocess mode:
each process writes its values to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR``
and ``/metrics`` merges them. The main process sets that variable (a fresh temporary
directory) before anything imports prometheus_client; see :mod:`serving.server`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

#: Seconds; from well under a millisecond (small models) to SageMaker's 60 s limit.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
ROUTES = frozenset(("/ping", "/invocations", "/metrics"))
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def route_label(path: str) -> str:
    """The metrics label for a request path; unknown paths share ``other``."""
    return path if path in ROUTES else "other"


class Metrics:
    """The server's metrics. Create once per worker process, after the fork.

    - ``serving_requests_total{route,code}``: requests answered.
    - ``serving_request_duration_seconds{route}``: time from request to answer.
    - ``serving_requests_in_flight``: invocations being handled now (all workers).
    - ``serving_errors_total{code,type}``: answers with status 400 or more, by error type.
    - ``serving_model_load_seconds``: how long loading the model took at start-up.
    - ``serving_batch_rows``: rows per model call (concurrent invocations are merged).
    - ``serving_abandoned_requests_total``: invocations dropped before their prediction
      started because the client disconnected (their slots are freed at once).
    - ``serving_gc_frozen_objects``: objects exempted from garbage collection after the
      model was loaded (per worker, the largest shown).
    """

    def __init__(self) -> None:
        if not getattr(values.ValueClass, "_multiprocess", False):
            raise RuntimeError(
                "PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported"
            )
        self.requests = Counter(
            "serving_requests", "Requests answered.", ["route", "code"], registry=None
        )
        self.latency = Histogram(
            "serving_request_duration_seconds",
            "Time from receiving a request to sending its answer, in seconds.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self.in_flight = Gauge(
            "serving_requests_in_flight",
            "Invocations being handled now.",
            registry=None,
            multiprocess_mode="livesum",
        )
        self.errors = Counter(
            "serving_errors", "Error answers by status code and type.", ["code", "type"],
            registry=None,
        )  # fmt: skip
        self.model_load_seconds = Gauge(
            "serving_model_load_seconds",
            "Seconds spent loading the model at start-up.",
            registry=None,
            multiprocess_mode="livemax",
        )
        self.batch_rows = Histogram(
            "serving_batch_rows", "Rows per model call.", buckets=BATCH_BUCKETS, registry=None
        )
        self.abandoned = Counter(
            "serving_abandoned_requests",
            "Invocations dropped before their prediction started: the client disconnected.",
            registry=None,
        )
        self.gc_frozen_objects = Gauge(
            "serving_gc_frozen_objects",
            "Objects exempted from garbage collection after loading the model.",
            registry=None,
            multiprocess_mode="livemax",
        )
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, code: int, seconds: float) -> None:
        """Count one answered request."""
        children = self._children.get((route, code))
        if children is None:
            children = (self.requests.labels(route, str(code)), self.latency.labels(route))
            self._children[(route, code)] = children
        children[0].inc()
        children[1].observe(seconds)

    def error(self, code: int, kind: str) -> None:
        """Count one error answer."""
        self.errors.labels(str(code), kind).inc()

    @staticmethod
    def render() -> bytes:
        """The merged metrics of all live and past workers, in Prometheus text format."""
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
