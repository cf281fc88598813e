"""Server settings, read once at start-up from named environment variables.

Every knob of the server lives here and nowhere else; the rest of the package receives a
frozen :class:`Settings`. Variable names follow the SageMaker hosting contract where one
exists (``SAGEMAKER_*``), then ``PORT`` for Kubernetes, then ``SERVING_*`` for the rest.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from serving.errors import SettingsError

MIB = 1024 * 1024

MODEL_FORMATS = ("auto", "custom", "joblib", "onnx")
INPUT_DTYPES = ("auto", "float64", "float32", "object")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, with units in the names.

    Attributes:
        model_dir: directory holding the model artefacts. ``MODEL_DIR``, default
            ``/opt/ml/model`` (where SageMaker extracts ``model.tar.gz``).
        model_format: ``auto`` (``code/inference.py`` if present, else ``model.joblib``,
            else ``model.onnx``), ``custom`` (``code/inference.py``, required), ``joblib``
            or ``onnx`` (that file only: never code from the model directory).
            ``SERVING_MODEL_FORMAT``, default ``auto``.
        input_dtype: what built-in models receive: ``float64`` or ``float32`` (cells that
            are not numbers get 400, bodies are parsed straight into arrays), ``object``
            (strings allowed, for pipelines that encode them), or ``auto``: ``float64`` for
            joblib, the graph's input type for ONNX. ``SERVING_INPUT_DTYPE``, default
            ``auto``.
        host: interface to bind. ``SERVING_HOST``, default ``0.0.0.0`` (SageMaker and
            Kubernetes connect from outside the container).
        port: TCP port. ``SAGEMAKER_BIND_TO_PORT``, else ``PORT``, default 8080.
        workers: worker processes, forked after the model is loaded.
            ``SAGEMAKER_MODEL_SERVER_WORKERS``, default the CPUs this process may use
            (affinity mask and cgroup CPU quota respected).
        request_timeout_seconds: deadline for one invocation, from the first byte read to
            the prediction; reading past it gives 408, predicting past it 504.
            ``SAGEMAKER_MODEL_SERVER_TIMEOUT``, default 60 (SageMaker's own limit).
        max_body_bytes: largest accepted request body; larger ones get 413.
            ``SERVING_MAX_BODY_BYTES``, default 6 MiB (SageMaker's payload limit).
        max_cells: largest rows x values of one request, counted before anything is
            allocated; more gets 413. ``SERVING_MAX_CELLS``, default 2,000,000 (16 MB as
            float64; a 6 MiB body of 4-value rows fits).
        large_concurrency: requests with a body over 64 KiB (or of unknown length) one
            worker handles at once, from reading the body to sending the answer; others
            wait with their body still unread in the kernel's socket buffers, so memory
            stays bounded whatever arrives at once. ``SERVING_LARGE_CONCURRENCY``,
            default 1.
        max_concurrency: invocations one worker holds at once, counted from the moment
            the whole body has arrived (decoding, queued or predicting); beyond it the
            worker answers 503 with ``Retry-After`` instead of queueing without bound.
            ``SERVING_MAX_CONCURRENCY``, default 64.
        max_batch_rows: built-in models predict queued invocations together, whatever
            their size, up to this many rows per call (0 turns merging off).
            ``SERVING_MAX_BATCH_ROWS``, default 65,536.
        explain_max_rows: rows one request may ask explanations for (``?explain=true``);
            more gets 413. Explanations cost far more than predictions (about 0.5 ms per
            row for the example forest against microseconds), and they run one at a time
            per worker, sharing the turns of ``large_concurrency``.
            ``SERVING_EXPLAIN_MAX_ROWS``, default 100.
        batch_budget_ms: how much time merging may add to one model call, estimated from
            the model's measured cost per row (the fixed cost of a call is paid anyway);
            a single request is never split. ``SERVING_BATCH_BUDGET_MS``, default 100.
        predict_threads: threads per worker that run predictions, so the event loop stays
            free for ``/ping`` while a model computes. ``SERVING_PREDICT_THREADS``, default 1.
        inline_predict_ms: built-in models whose recent calls all took less than this run
            on the event loop instead, saving a thread hand-off (about 0.1 ms per call);
            the request deadline is only enforced on threads. ``SERVING_INLINE_PREDICT_MS``,
            default 2 (0 always uses the threads).
        graceful_timeout_seconds: after SIGTERM, how long in-flight requests may take before
            workers are stopped hard. ``SERVING_GRACEFUL_TIMEOUT_SECONDS``, default 20 (inside
            the 30 s that Docker, Kubernetes and SageMaker wait before SIGKILL).
        body_timeout_seconds: time for the whole body to arrive once the headers have;
            past it the answer is 408 and the connection is closed.
            ``SERVING_BODY_TIMEOUT_SECONDS``, default 30 (capped by the request timeout).
        header_timeout_seconds: time for a request's headers to arrive, from the moment
            the connection opens or, on a kept-alive connection, from the request's first
            byte; past it the connection is closed (after a 408).
            ``SERVING_HEADER_TIMEOUT_SECONDS``, default 10.
        max_header_bytes: largest request line plus headers; more gets 431 and the
            connection is closed. ``SERVING_MAX_HEADER_BYTES``, default 16384 (16 KiB).
        max_connections: open connections per worker; one more is answered 503 and
            closed at once, and ``/ping`` answers 503 while the worker is at the cap.
            ``SERVING_MAX_CONNECTIONS``, default 512.
        keepalive_seconds: idle time before a kept-alive connection is closed.
            ``SERVING_KEEPALIVE_SECONDS``, default 75 (longer than the 60 s idle timeout
            of AWS load balancers, so the server never closes a connection they reuse).
        retry_after_seconds: value of ``Retry-After`` on 503 answers.
            ``SERVING_RETRY_AFTER_SECONDS``, default 1.
        log_level: ``debug``, ``info``, ``warning`` or ``error``. ``SERVING_LOG_LEVEL``,
            default ``info``.
        access_log: one JSON line per request when true; errors are always logged.
            ``SERVING_ACCESS_LOG``, default false.
    """

    model_dir: Path = Path("/opt/ml/model")
    model_format: str = "auto"
    input_dtype: str = "auto"
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    request_timeout_seconds: float = 60.0
    max_body_bytes: int = 6 * MIB
    max_cells: int = 2_000_000
    large_concurrency: int = 1
    max_concurrency: int = 64
    max_batch_rows: int = 65_536
    explain_max_rows: int = 100
    batch_budget_ms: float = 100.0
    predict_threads: int = 1
    inline_predict_ms: float = 2.0
    graceful_timeout_seconds: float = 20.0
    body_timeout_seconds: float = 30.0
    header_timeout_seconds: float = 10.0
    max_header_bytes: int = 16_384
    max_connections: int = 512
    keepalive_seconds: int = 75
    retry_after_seconds: int = 1
    log_level: str = "info"
    access_log: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``), then apply overrides.

        Overrides set to ``None`` are ignored, so CLI flags that were not given fall back
        to the environment. Raises :class:`SettingsError` naming the variable and the
        accepted values when one is malformed.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "model_dir": Path(env.get("MODEL_DIR") or "/opt/ml/model"),
            "model_format": _choice(env, "SERVING_MODEL_FORMAT", "auto", MODEL_FORMATS),
            "input_dtype": _choice(env, "SERVING_INPUT_DTYPE", "auto", INPUT_DTYPES),
            "host": env.get("SERVING_HOST") or "0.0.0.0",
            "port": _port(env),
            "workers": _int(env, "SAGEMAKER_MODEL_SERVER_WORKERS", available_cpus(), 1),
            "request_timeout_seconds": _seconds(env, "SAGEMAKER_MODEL_SERVER_TIMEOUT", 60.0),
            "max_body_bytes": _int(env, "SERVING_MAX_BODY_BYTES", 6 * MIB, 1),
            "max_cells": _int(env, "SERVING_MAX_CELLS", 2_000_000, 1),
            "large_concurrency": _int(env, "SERVING_LARGE_CONCURRENCY", 1, 1),
            "max_concurrency": _int(env, "SERVING_MAX_CONCURRENCY", 64, 1),
            "max_batch_rows": _int(env, "SERVING_MAX_BATCH_ROWS", 65_536, 0),
            "explain_max_rows": _int(env, "SERVING_EXPLAIN_MAX_ROWS", 100, 1),
            "batch_budget_ms": _milliseconds(env, "SERVING_BATCH_BUDGET_MS", 100.0),
            "predict_threads": _int(env, "SERVING_PREDICT_THREADS", 1, 1),
            "inline_predict_ms": _milliseconds(env, "SERVING_INLINE_PREDICT_MS", 2.0),
            "graceful_timeout_seconds": _seconds(env, "SERVING_GRACEFUL_TIMEOUT_SECONDS", 20.0),
            "body_timeout_seconds": _seconds(env, "SERVING_BODY_TIMEOUT_SECONDS", 30.0),
            "header_timeout_seconds": _seconds(env, "SERVING_HEADER_TIMEOUT_SECONDS", 10.0),
            "max_header_bytes": _int(env, "SERVING_MAX_HEADER_BYTES", 16_384, 1024),
            "max_connections": _int(env, "SERVING_MAX_CONNECTIONS", 512, 1),
            "keepalive_seconds": _int(env, "SERVING_KEEPALIVE_SECONDS", 75, 1),
            "retry_after_seconds": _int(env, "SERVING_RETRY_AFTER_SECONDS", 1, 0),
            "log_level": _choice(env, "SERVING_LOG_LEVEL", "info", LOG_LEVELS),
            "access_log": _bool(env, "SERVING_ACCESS_LOG", False),
        }
        known = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if key not in known:
                raise TypeError(f"unknown setting {key!r}")
            if value is not None:
                values[key] = Path(value) if key == "model_dir" else value
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject values no server could run with (also checks CLI overrides)."""
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must be 1-65535, got {self.port}")
        if self.workers < 1:
            raise SettingsError(f"workers must be at least 1, got {self.workers}")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated)."""
        settings = replace(self, **changes)
        settings.validate()
        return settings


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def _port(env: Mapping[str, str]) -> int:
    for name in ("SAGEMAKER_BIND_TO_PORT", "PORT"):
        if _raw(env, name) is not None:
            port = _int(env, name, 8080, 1)
            if port > 65535:
                raise SettingsError(f"{name} must be a TCP port 1-65535, got {port}")
            return port
    return 8080


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _number(
    env: Mapping[str, str], name: str, default: float, unit: str, *, allow_zero: bool
) -> float:
    """A finite, non-negative number of ``unit``; zero only when ``allow_zero``."""
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = f"0 or more {unit}" if allow_zero else f"a positive number of {unit}"
        raise SettingsError(f"{name} must be {expected}, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, "seconds", allow_zero=False)


def _milliseconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, "milliseconds", allow_zero=True)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw.lower()
