"""`GET /health` on both servers, with this run's token.

A launcher (scripts/servers.py) gives each start of the bot a random token in the
environment (BOT_RUN_TOKEN) and waits until both servers answer /health with it, so a
server left over from an earlier run on the same port is never taken for the new one.
The Rasa server answers 200 only once its model is loaded (503 before), like /status.
The token identifies a run; it grants nothing.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from sanic import Blueprint, Sanic, response
from sanic.request import Request

TOKEN_ENV = "BOT_RUN_TOKEN"


def run_token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def rasa_blueprint() -> Blueprint:
    """/health for the Rasa server (registered by bot.patches)."""
    blueprint = Blueprint("bot_health")

    @blueprint.get("/health")
    async def health(request: Request) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return response.json({"status": "loading"}, status=503)
        return response.json({"status": "ok", "token": run_token()})

    return blueprint


def answer_with_token(app: Sanic) -> None:
    """rasa_sdk's /health ({"status": "ok"}) with the token added, on its own app."""

    @app.on_request
    async def health(request: Request) -> Optional[Any]:
        if request.method == "GET" and request.path == "/health":
            return response.json({"status": "ok", "token": run_token()})
        return None  # every other request goes on to rasa_sdk's routes
