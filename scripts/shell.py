"""`make shell`: the action server in the background, `rasa shell` in the foreground.

The shell's Rasa server listens on 127.0.0.1 only and gets the action server's secret and
the API token through bot.env() (bot/server.py passes RASA_API_TOKEN as --auth-token).
"""

from __future__ import annotations

import subprocess
import sys

from bot import settings
from scripts.servers import Bot


def main() -> int:
    bot = Bot(
        model=settings.path("MODEL_PATH"),
        rasa_port=int(settings.get("RASA_PORT")),
        actions_port=int(settings.get("ACTIONS_PORT")),
        tracker_db=settings.path("TRACKER_DB"),
        log_dir=settings.ROOT / "var" / "log",
    )
    bot.start_actions(timeout=60)
    try:
        return subprocess.call(
            [
                sys.executable,
                "-m",
                "bot.server",
                "shell",
                "--model",
                str(bot.model),
                "--endpoints",
                "endpoints.yml",
                "--port",
                str(bot.rasa_port),
                "--interface",
                "127.0.0.1",  # the shell's server is for this machine only (issue 12)
            ],
            cwd=settings.ROOT,
            env=bot.env(),
        )
    finally:
        bot.stop()


if __name__ == "__main__":
    sys.exit(main())
