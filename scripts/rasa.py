"""Run the `rasa` command line with the project's environment (.env, defaults, PYTHONPATH).

`python -m scripts.rasa train ...` is what the Makefile calls instead of bare `rasa`,
so endpoints.yml's ${VARS} resolve and the custom components under bot/ import.
"""
import os
import sys
from pathlib import Path

from bot import settings

if __name__ == "__main__":
    rasa = str(Path(sys.executable).parent / "rasa")
    os.chdir(settings.ROOT)
    env = settings.child_env()
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.execve(rasa, [rasa, *sys.argv[1:]], env)
