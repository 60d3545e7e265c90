"""scripts/servers.py: ports from the OS, and a server counts as up only with this run's token."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.servers import free_ports, wait_http


def test_free_ports_are_distinct_and_free():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


@pytest.fixture
def health():
    """A stub answering /health with whatever token it is given."""
    state = {"token": "left-over-run"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "token": state["token"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", state
    server.shutdown()
    server.server_close()


def test_a_server_with_another_token_is_not_taken_for_this_run(health):
    url, state = health
    with pytest.raises(TimeoutError, match="left-over-run"):
        wait_http(url, 0.5, token="this-run")
    state["token"] = "this-run"
    assert wait_http(url, 5, token="this-run") < 5
