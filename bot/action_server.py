"""The action server: rasa_sdk's own app, with /health reporting this run's token.

`python -m bot.action_server --actions bot.actions --port 5055` takes rasa_sdk's command
line and runs as `python -m rasa_sdk` does (same logging, plugins, workers, SANIC_HOST
for the address), on the app `rasa_sdk.endpoint.create_app` builds; only /health also
carries the token of bot/health.py.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import List, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager

from bot import health


def main(argv: Optional[List[str]] = None) -> None:
    args = create_argument_parser().parse_args(argv)
    # As rasa_sdk.__main__.main_from_args.
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    # As rasa_sdk.endpoint.run, plus the token.
    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    health.answer_with_token(app)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main(sys.argv[1:])
