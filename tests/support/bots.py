"""Test bots: the real action server + Rasa server (scripts/servers.py) on ports the OS
gives out, each with its own stores under var/test/<name>/.

tests/e2e/conftest.py is the one place that starts them; test modules get them from its
fixtures.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot import settings
from scripts.servers import Bot, free_ports

TEST_VAR = settings.ROOT / "var" / "test"
# The agent console's login on every test bot.
AGENT, PASSWORD, SECRET = "agent", "test-password-7f3a", "test-secret-91c2"
# Every test bot: agents always on duty (after-hours is tested on the action itself),
# silence timers out of the way unless a module sets them.
BASE_ENV = {
    "AGENT_USERNAME": AGENT,
    "AGENT_PASSWORD": PASSWORD,
    "AGENT_SECRET": SECRET,
    "SERVICE_HOURS": "00:00-24:00",
    "SILENCE_NUDGE_SECONDS": "600",
    "SILENCE_CLOSE_SECONDS": "600",
    # Security (issue 12): every test talks from 127.0.0.1, far faster than a customer;
    # the rate limits are tested on a bot of their own (tests/e2e/test_security.py).
    "RATE_LIMIT_PER_CLIENT": "0",
    "RATE_LIMIT_PER_CONVERSATION": "0",
    "WEBSITE_SECRET": "test-website-secret-5e1d",
}
START_TIMEOUT = 240


class NoModel(Exception):
    pass


def new_bot(name: str, **env: str) -> Bot:
    """A bot (not started yet) with fresh stores in var/test/<name>/ and `env` on top."""
    model = settings.path("MODEL_PATH")
    if not model.exists():
        raise NoModel(f"no trained model at {model}: run `make train` (make test does)")
    folder = TEST_VAR / name
    shutil.rmtree(folder, ignore_errors=True)
    rasa_port, actions_port = free_ports(2)
    return Bot(
        model=model,
        rasa_port=rasa_port,
        actions_port=actions_port,
        tracker_db=folder / "tracker.db",
        log_dir=folder / "log",
        extra_env={"DATABASE_URL": f"sqlite:///{folder / 'shop.db'}", **BASE_ENV, **env},
    )


def start(bot: Bot, timeout: float = START_TIMEOUT) -> Bot:
    """Start `bot`; if another program took one of its ports meanwhile, once more on new ports."""
    try:
        return bot.start(timeout=timeout)
    except RuntimeError:
        logs = " ".join(path.read_text(errors="replace") for path in bot.log_dir.glob("*.log")).lower()
        if "address already in use" not in logs:
            raise
        bot.rasa_port, bot.actions_port = free_ports(2)
        return bot.start(timeout=timeout)


def start_all(*bots: Bot, timeout: float = START_TIMEOUT) -> None:
    """Start several bots side by side."""
    with ThreadPoolExecutor(len(bots)) as pool:
        list(pool.map(lambda bot: start(bot, timeout), bots))


def store_of(bot: Bot) -> Any:
    """The shop store (orders, tickets, ratings) of a test bot."""
    from bot.shop.store import store_for

    return store_for(bot.extra_env["DATABASE_URL"])


class Launcher:
    """`make run`'s launcher itself (python -m scripts.run, its supervision loop and its
    Ctrl-C) as a process, on free ports with its own stores and logs in var/test/<name>/."""

    def __init__(self, name: str) -> None:
        model = settings.path("MODEL_PATH")
        if not model.exists():
            raise NoModel(f"no trained model at {model}: run `make train` (make test does)")
        self.folder = TEST_VAR / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.rasa_port, self.actions_port = free_ports(2)
        self.env: Dict[str, str] = {
            **os.environ,
            **BASE_ENV,
            "RASA_PORT": str(self.rasa_port),
            "ACTIONS_PORT": str(self.actions_port),
            "TRACKER_DB": str(self.folder / "tracker.db"),
            "DATABASE_URL": f"sqlite:///{self.folder / 'shop.db'}",
            "LOG_DIR": str(self.folder / "log"),
        }
        self.output = self.folder / "launcher.out"
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def log_dir(self) -> Path:
        return self.folder / "log"

    def start(self) -> "Launcher":
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scripts.run"],
                cwd=settings.ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C goes to the launcher's process group only
            )
        return self

    def said(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def server_pids(self) -> List[int]:
        """The launcher's child processes (the action server and the Rasa server)."""
        if self.process is None:
            return []
        try:
            return [
                int(pid)
                for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            ]
        except OSError:
            return []

    def pid_on(self, port: int) -> Optional[int]:
        """Which of the launcher's servers listens on `port` (its command line names the port)."""
        for pid in self.server_pids():
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(port).encode() in args:
                return pid
        return None

    def ctrl_c(self) -> None:
        """What a terminal sends on Ctrl-C: SIGINT to the launcher's process group."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)

    def stop(self) -> None:
        """Ctrl-C, then anything left of it killed."""
        if self.process is None:
            return
        servers = self.server_pids()
        self.ctrl_c()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in servers:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
