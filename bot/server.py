"""The Rasa command line with the bot's patches of Rasa internals applied first.

`python -m bot.server run ...` is what `make run`, `make shell`, `make test-stories`,
`make test-nlu`, the end-to-end tests and `make bench` start. Every patch, with its
reason and its test, is listed in bot/patches.py; on a Rasa version other than the one
they were tested with, this refuses to start.

Security (issue 12): `run` and `shell` get `--auth-token` from RASA_API_TOKEN in the
environment (scripts/servers.py sets it), so Rasa's HTTP API always needs the token and
the token never shows on a command line; every log line is cleaned of secrets
(bot/redact.py).
"""

from __future__ import annotations

import os
import sys
from typing import List

SERVING_COMMANDS = ("run", "shell")


class OpenApiRefused(Exception):
    pass


def with_api_token(argv: List[str]) -> List[str]:
    """argv plus `--auth-token $RASA_API_TOKEN` for a serving command that has none;
    refuses to serve Rasa's HTTP API without a token."""
    if len(argv) < 2 or argv[1] not in SERVING_COMMANDS:
        return argv
    if any(arg in ("--auth-token", "-t") or arg.startswith("--auth-token=") for arg in argv):
        return argv
    token = os.environ.get("RASA_API_TOKEN", "")
    if token:
        return [*argv, f"--auth-token={token}"]  # one argument: a token may start with "-"
    if "--enable-api" in argv:
        raise OpenApiRefused("Rasa's HTTP API needs a token: set RASA_API_TOKEN (`make run` writes one to .env)")
    return argv


def main() -> None:
    from bot import patches, redact

    try:
        patches.apply()
    except patches.UnsupportedRasaVersion as error:
        sys.exit(f"error: {error}")
    redact.install()
    try:
        sys.argv = with_api_token(sys.argv)
    except OpenApiRefused as error:
        sys.exit(f"error: {error}")
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
