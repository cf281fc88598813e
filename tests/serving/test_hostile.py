"""Hostile clients and hostile data against a real server: each is refused in words and
bounded, and normal requests keep working."""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from benchmarks.serve import abuse
from tests.serving.conftest import StartServer
from tests.serving.helpers import (
    ServerProcess,
    call,
    children,
    invoke,
    metric,
    wait_until,
)

ROW = b"[[5.1, 3.5, 1.4, 0.2]]"
MIB = 1024 * 1024
#: Functional deadline for a socket read: a server that never answers fails the test.
READ_DEADLINE_SECONDS = 20.0


def head(port: int, request: bytes) -> socket.socket:
    """A connection that has sent ``request`` (possibly incomplete) and nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=READ_DEADLINE_SECONDS)
    sock.sendall(request)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def npy_claiming(shape: tuple[int, ...], data_bytes: int) -> bytes:
    """A .npy header declaring ``shape`` for float64, followed by ``data_bytes`` zeros."""
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\x00" * data_bytes


def status_line(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def guarded(
    example_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server with tight, test-sized bounds (the mechanisms are the same at any size)."""
    server = ServerProcess(
        example_model_dir,
        tmp_path_factory.mktemp("guarded") / "server.log",
        SERVING_HEADER_TIMEOUT_SECONDS="0.5",
        SERVING_BODY_TIMEOUT_SECONDS="0.5",
        SERVING_MAX_HEADER_BYTES="4096",
        SERVING_MAX_CONNECTIONS="8",
        SERVING_MAX_CONCURRENCY="2",
        SERVING_MAX_CELLS="1000",
    ).start()
    server.wait_for_ping(200)
    yield server
    server.stop()


# -- data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"[[5.1, null, 1.4, 0.2]]", "application/json", "null"),
        (b'{"instances": [[5.1, "3.5", 1.4, 0.2]]}', "application/json", "strings"),
        (b"5.1,abc,1.4,0.2\n", "text/csv", "not a number"),
        (npy_claiming((-1, -4), data_bytes=32), "application/x-npy", "0 or more"),
    ],
    ids=["json-null", "json-string", "csv-string", "npy-negative-shape"],
)
def test_values_that_are_not_numbers_get_400_in_words(
    example_server: ServerProcess, body: bytes, content_type: str, words: str
) -> None:
    answer = invoke(example_server.port, body, content_type)
    assert answer.status == 400, answer.body
    assert words in answer.json()["error"]


def test_more_cells_than_allowed_get_413_before_parsing(guarded: ServerProcess) -> None:
    rows = b"[" + b",".join([b"[5.1,3.5,1.4,0.2]"] * 251) + b"]"  # 1004 cells, cap 1000
    answer = invoke(guarded.port, rows)
    assert answer.status == 413
    assert "SERVING_MAX_CELLS" in answer.json()["error"]
    assert invoke(guarded.port, rows[: rows.rindex(b",[")] + b"]").status == 200


def test_ping_with_a_slash_is_not_a_redirect_built_from_the_host(
    example_server: ServerProcess,
) -> None:
    answer = call(example_server.port, "GET", "/ping/", headers={"Host": "evil.example"})
    assert answer.status == 404
    assert "location" not in answer.headers


def test_large_bodies_of_strings_do_not_grow_the_worker(example_server: ServerProcess) -> None:
    (worker,) = children(example_server.pid)
    body = b"\n".join([b"setosa,versicolor,virginica,petal"] * (6 * MIB // 34 - 1))
    before = vm_kib(worker, "VmRSS")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: invoke(example_server.port, body, "text/csv"), range(4)))
    assert {answer.status for answer in answers} == {400}
    grown_mib = (vm_kib(worker, "VmHWM") - before) / 1024
    # Four bodies of 6 MiB are 24 MiB; decoding them must not multiply that.
    assert grown_mib < 60, f"the worker's peak grew by {grown_mib:.0f} MiB"


def test_eight_numeric_6_mib_bodies_stay_within_the_memory_bounds(
    example_model_dir: Path, start_server: StartServer
) -> None:
    """The bound of ``make bench-abuse``, through its own helper: the server's process tree
    peaks at most 100 MiB over idle while eight 6 MiB CSV bodies of numbers arrive at once,
    and is back within 10 % of idle five seconds later (read as soon as it is)."""
    server = start_server(example_model_dir)
    for _ in range(20):
        assert invoke(server.port, b"5.1,3.5,1.4,0.2", "text/csv").status == 200
    body = abuse.numbers_csv()
    # The first large request sets up what every one needs (helper threads, caches).
    assert abuse.post(server.port, body, "text/csv") == "200"
    outcome = abuse.measure(
        "numbers",
        server.port,
        server.pid,
        abuse.eight_bodies(body, "text/csv"),
        until_settled=True,
    )
    assert outcome.result == "8 x 200"
    assert outcome.peak_mib <= outcome.idle_mib + abuse.TARGET_PEAK_OVER_IDLE_MIB, outcome
    assert outcome.settled_mib <= outcome.idle_mib * abuse.TARGET_SETTLED_RATIO, outcome


# -- connections -----------------------------------------------------------------------


def test_oversized_headers_get_431_and_the_connection_closed(guarded: ServerProcess) -> None:
    with head(guarded.port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ") as sock:
        with contextlib.suppress(OSError):  # the server may close while we still send
            for _ in range(64):
                sock.sendall(b"a" * 16384)
        answer = read_until_closed(sock)
    assert status_line(answer) == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert call(guarded.port, "GET", "/ping").status == 200


def test_headers_that_never_finish_are_cut_off(guarded: ServerProcess) -> None:
    slow = [head(guarded.port, b"POST /invocations HTTP/1.1\r\nHost: x\r\n") for _ in range(3)]
    idle = head(guarded.port, b"")
    for sock in [*slow, idle]:
        with sock:
            assert status_line(read_until_closed(sock)) == b"HTTP/1.1 408 Request Timeout"
    assert call(guarded.port, "GET", "/ping").status == 200


def test_a_stalled_body_holds_a_connection_never_a_slot(guarded: ServerProcess) -> None:
    stalled = [
        head(
            guarded.port,
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n[",
        )
        for _ in range(5)
    ]
    try:
        # More stalled senders than slots (2), and normal requests still get through.
        for _ in range(3):
            assert invoke(guarded.port, ROW).status == 200
        for sock in stalled:  # and the body deadline closes each stalled connection
            assert status_line(read_until_closed(sock)) == b"HTTP/1.1 408 Request Timeout"
    finally:
        for sock in stalled:
            sock.close()


def test_connections_over_the_cap_are_refused_and_ping_says_so(guarded: ServerProcess) -> None:
    kept = [http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=30) for _ in range(8)]
    try:
        for connection in kept:  # eight kept-alive connections: the cap
            connection.request("GET", "/metrics")
            assert connection.getresponse().read()
        with head(guarded.port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n") as extra:
            assert status_line(read_until_closed(extra)) == b"HTTP/1.1 503 Service Unavailable"
        kept[0].request("GET", "/ping")
        answer = kept[0].getresponse()
        answer.read()
        assert answer.status == 503  # at the cap, this worker says it cannot serve more
    finally:
        for connection in kept:
            connection.close()
    wait_until(lambda: guarded.ping() == 200, "connections freed")


# -- code and errors -------------------------------------------------------------------

LEAKY_CODE = """
from pathlib import Path
(Path(__file__).parent / "imported").touch()

def predict_fn(data, model):
    raise RuntimeError("cannot reach postgres://svc:hunter2@db.internal:5432/features")
"""


def leaky_model(example_model_dir: Path, directory: Path, artefact: str) -> Path:
    """``artefact`` of the example model beside a ``code/inference.py`` of LEAKY_CODE."""
    (directory / "code").mkdir(parents=True)
    (directory / artefact).write_bytes((example_model_dir / artefact).read_bytes())
    (directory / "code" / "inference.py").write_text(LEAKY_CODE)
    return directory


def test_onnx_format_never_runs_code_from_the_model_directory(
    start_server: StartServer, example_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = leaky_model(example_model_dir, tmp_path / "model", "model.onnx")
    server = start_server(model_dir, SERVING_MODEL_FORMAT="onnx")
    assert invoke(server.port, ROW).json() == {"predictions": ["setosa"]}
    assert not (model_dir / "code" / "imported").exists()
    loaded = next(line for line in server.log().splitlines() if '"model loaded"' in line)
    assert '"format":"onnx"' in loaded
    assert str(model_dir / "model.onnx") in loaded


def test_a_model_error_tells_the_caller_nothing_internal(
    start_server: StartServer, example_model_dir: Path, tmp_path: Path
) -> None:
    server = start_server(leaky_model(example_model_dir, tmp_path / "model", "model.joblib"))
    answer = invoke(server.port, ROW, X_Request_Id="leak-check-1")
    assert answer.status == 500
    assert answer.json() == {
        "error": answer.json()["error"],
        "type": "model_error",
        "request_id": "leak-check-1",
    }
    assert b"hunter2" not in answer.body and b"postgres" not in answer.body
    wait_until(lambda: "hunter2" in server.log(), "the detail logged")
    (line,) = [line for line in server.log().splitlines() if "hunter2" in line]
    assert '"request_id":"leak-check-1"' in line


# -- the slot follows the client -------------------------------------------------------


def test_clients_that_leave_before_their_prediction_free_their_slots(
    start_server: StartServer, tmp_path: Path
) -> None:
    from tests.serving.gated_model import make_gated_model, open_gate, predictions_started

    model_dir = make_gated_model(tmp_path / "model", predicting=False)
    server = start_server(model_dir, SERVING_MAX_CONCURRENCY="6", SERVING_MAX_BATCH_ROWS="0")
    with ThreadPoolExecutor(6) as pool:
        held = pool.submit(invoke, server.port, b'"first"')
        wait_until(lambda: predictions_started(model_dir) == 1, "first request predicting")
        body = b'"gone"'
        request = (
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        leavers = [head(server.port, request) for _ in range(5)]  # queued behind "first"
        wait_until(lambda: metric(server.port, "serving_requests_in_flight") == 6, "queued")
        for sock in leavers:
            sock.close()
        wait_until(lambda: metric(server.port, "serving_abandoned_requests_total") == 5, "dropped")
        # Their slots are free again: five normal requests are admitted, not refused.
        normal = [pool.submit(invoke, server.port, b'"next"') for _ in range(5)]
        wait_until(lambda: metric(server.port, "serving_requests_in_flight") == 6, "admitted")
        open_gate(model_dir, "predict")
        assert held.result().status == 200
        assert [future.result().status for future in normal] == [200] * 5
    assert predictions_started(model_dir) == 6  # the five that left never reached the model


def test_the_model_is_frozen_out_of_garbage_collection(example_server: ServerProcess) -> None:
    assert metric(example_server.port, "serving_gc_frozen_objects") > 10_000
