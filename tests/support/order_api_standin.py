"""A local stand-in for a shop's order API (the contract in bot/shop/orders.py).

It serves orders as JSON, and can be told to answer 500 or to stall past the client's
timeout, so tests see what the bot does when a real API misbehaves.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List


class OrderApiStandIn:
    def __init__(self, orders: Dict[str, Dict[str, Any]]) -> None:
        self.orders = orders
        self.mode = "ok"  # ok | error | slow
        self.stall_seconds = 5.0
        self.requests: List[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any = None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                standin.requests.append(f"{method} {self.path}")
                if standin.mode == "slow":
                    time.sleep(standin.stall_seconds)
                if standin.mode == "error":
                    return self._reply(500, {"error": "internal"})
                parts = self.path.strip("/").split("/")
                order = standin.orders.get(parts[1]) if len(parts) >= 2 and parts[0] == "orders" else None
                if order is None:
                    return self._reply(404, {"error": "not found"})
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if method == "PATCH":
                    order.update(body)
                elif method == "POST" and parts[-1] == "cancel":
                    order["status"] = "cancelled"
                self._reply(200, order)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OrderApiStandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
