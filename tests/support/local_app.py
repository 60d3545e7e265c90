"""A Sanic app served in this process on a free port, for unit tests over real HTTP
(no model, no Rasa server): `with serving(app) as base: ...`."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple

from scripts.servers import free_ports


@contextmanager
def serving(app: Any) -> Iterator[str]:
    port = free_ports(1)[0]
    # Sanic rewrites its HTTP class at each start; in test mode from the original each time,
    # so that several apps can start in one process.
    type(app).test_mode = True
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: Dict[str, Any] = {}

    async def serve() -> None:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.before_start()
        await server.start_serving()
        await server.after_start()
        state["server"], state["stop"] = server, asyncio.Event()
        ready.set()
        await state["stop"].wait()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except Exception as error:  # shown by the wait below
            state["error"] = error
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20), "the app did not start"
    if "error" in state:
        raise state["error"]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)


def request(
    base: str, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None
) -> Tuple[int, Dict[str, str], bytes]:
    """(status, headers, body) whatever the status."""
    call = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
