"""Run the `rasa` command line with the project's environment (.env, defaults, PYTHONPATH).

`python -m scripts.rasa train ...` is what the Makefile calls instead of bare `rasa`,
so endpoints.yml's ${VARS} resolve and the custom components under bot/ import.
`python -m scripts.rasa --patched test ...` runs it through `python -m bot.server`: with
the patches of bot/patches.py, the runtime that serves customers.
"""

import os
import sys
from pathlib import Path

from bot import settings

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--patched"]:
        command = [sys.executable, "-m", "bot.server", *args[1:]]
    else:
        command = [str(Path(sys.executable).parent / "rasa"), *args]
    os.chdir(settings.ROOT)
    env = settings.child_env()
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.execve(command[0], command, env)
