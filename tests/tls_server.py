"""A TLS server on loopback whose self-made certificate no client trusts (a production behind a
wrong certificate); it counts the connections it gets. Used by tests/test_http_faults.py and
bench/faults.py."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def untrusted_tls_server() -> Iterator[tuple[str, list]]:
    """Yields (its https://localhost:PORT URL, a list with one entry per accepted connection)."""
    with tempfile.TemporaryDirectory(prefix="untrusted-tls-") as tmp:
        key, cert = Path(tmp) / "key.pem", Path(tmp) / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(2)
        listener.close()
