"""A real gunicorn answers a declared 1 GB upload with a JSON 413 at once, while the client
has sent no body at all: nothing waits for (or spools) the gigabyte first."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.ops.conftest import free_port, server_env


def _raw_response(port: int, request: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_gunicorn_answers_a_declared_1gb_upload_with_413_without_waiting_for_the_body(
    serve: Any, tmp_path: Path
) -> None:
    port = free_port()
    serve(
        server_env(
            tmp_path,
            PORT=str(port),
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            WEB_CONCURRENCY="1",
        )
    )
    head = (
        "POST /api/v1/scans/ HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        "Authorization: Bearer wdn_" + "x" * 43 + "\r\n"
        "Content-Type: multipart/form-data; boundary=zzz\r\n"
        f"Content-Length: {1024**3}\r\n\r\n"
    ).encode()
    raw = _raw_response(port, head)  # no body follows: a read would block until the timeout
    status_line, _, rest = raw.partition(b"\r\n")
    assert b" 413 " in status_line, raw[:500]
    headers, _, payload = rest.partition(b"\r\n\r\n")
    assert b"application/json" in headers, raw[:500]
    body = json.loads(payload)
    assert body["error"].startswith(f"report is {1024**3:,} bytes; the limit is")
