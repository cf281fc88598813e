"""Container HEALTHCHECK: exit 0 when ``/ping`` on this container answers 200.

Used by the Dockerfile's ``HEALTHCHECK`` (``python -m serving healthcheck``) because the
slim base image has no curl; it reads the same port setting as the server.
"""

from __future__ import annotations

import http.client

PING_TIMEOUT_SECONDS = 2.0


def check(
    port: int, host: str = "127.0.0.1", timeout_seconds: float = PING_TIMEOUT_SECONDS
) -> bool:
    """True when ``GET /ping`` answers 200 within ``timeout_seconds`` (default 2 s)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_seconds)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
