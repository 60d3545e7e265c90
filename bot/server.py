"""The Rasa command line with the bot's patches of Rasa internals applied first.

`python -m bot.server run ...` is what `make run`, `make shell`, `make test-stories`,
`make test-nlu`, the end-to-end tests and `make bench` start. Every patch, with its
reason and its test, is listed in bot/patches.py; on a Rasa version other than the one
they were tested with, this refuses to start.
"""

from __future__ import annotations

import sys


def main() -> None:
    from bot import patches

    try:
        patches.apply()
    except patches.UnsupportedRasaVersion as error:
        sys.exit(f"error: {error}")
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
