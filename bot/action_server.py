"""The action server: rasa_sdk's own app, with /health reporting this run's token.

`python -m bot.action_server --actions bot.actions --port 5055` takes rasa_sdk's command
line and runs as `python -m rasa_sdk` does (same logging, plugins, workers, SANIC_HOST
for the address), on the app `rasa_sdk.endpoint.create_app` builds; only /health also
carries the token of bot/health.py.

Security (issue 12, item 8): every request but /health needs the secret shared with the
Rasa server, `Authorization: Bearer <ACTION_SERVER_TOKEN>` (endpoints.yml sends it),
checked before rasa_sdk sees the request: 401 without it, 403 with a wrong one. Without
ACTION_SERVER_TOKEN the server refuses to start. No secret is ever logged (bot/redact.py).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from typing import Any, List, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request

from bot import health, redact

TOKEN_ENV = "ACTION_SERVER_TOKEN"


def require_token(app: Sanic, token: str) -> None:
    """Refuse every request but /health that lacks `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    @app.on_request
    async def check(request: Request) -> Optional[Any]:
        if request.path == "/health":
            return None
        given = request.headers.get("authorization", "")
        if not given:
            return response.json({"error": "The action server needs the shared secret (ACTION_SERVER_TOKEN)."}, 401)
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected):
            return response.json({"error": "Wrong action server secret."}, 403)
        return None


def main(argv: Optional[List[str]] = None) -> None:
    args = create_argument_parser().parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        sys.exit(f"error: {TOKEN_ENV} is not set; `make run` writes one to .env (the Rasa server sends it)")
    redact.install()
    # As rasa_sdk.__main__.main_from_args.
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    # As rasa_sdk.endpoint.run, plus the token.
    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    health.answer_with_token(app)  # first: /health stays open
    require_token(app, token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main(sys.argv[1:])
