"""Start the action server and the Rasa server, wait until both answer, stop them.

Used by `make run`, `make shell`, the test suite, `make test-stories` and `make bench`, so
all of them run the bot the same way. Each process gets its own environment (ports,
tracker file) from bot.settings, and each start a random token (bot/health.py): a server
counts as up when its /health answers with that token, never merely because something
answers on its port (a server left over from an aborted run, another checkout's tests).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import settings
from bot.health import TOKEN_ENV

BIN = Path(sys.executable).parent


def free_ports(count: int = 1) -> List[int]:
    """Ports that the OS has just given out as free (bound to port 0, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_http(
    url: str, timeout: float, process: Optional[subprocess.Popen] = None, token: Optional[str] = None
) -> float:
    """Seconds until `url` answers 200 (with `"token": token` in its JSON, when given);
    raise if the process dies or time runs out."""
    start = time.monotonic()
    answered = "nothing"
    while time.monotonic() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body = response.read()
                if response.status == 200:
                    if token is None:
                        return time.monotonic() - start
                    try:
                        answered = f"token {json.loads(body).get('token')!r}"
                    except (ValueError, AttributeError):
                        answered = f"{body[:80]!r}"
                    if answered == f"token {token!r}":
                        return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    wanted = " with this run's token" if token is not None else ""
    raise TimeoutError(f"{url} did not answer{wanted} within {timeout:.0f} s (last answer: {answered})")


@dataclass
class Bot:
    """One running bot: action server + Rasa server."""

    model: Path
    rasa_port: int
    actions_port: int
    tracker_db: Path
    log_dir: Path
    endpoints: Path = settings.ROOT / "endpoints.yml"
    extra_env: Dict[str, str] = field(default_factory=dict)
    processes: List[subprocess.Popen] = field(default_factory=list)
    ready_seconds: float = 0.0
    token: str = ""  # this start's BOT_RUN_TOKEN, new at each start()
    # Security (issue 12): the Rasa HTTP API's token and the secret Rasa sends to the action
    # server. From extra_env or .env (`make run` writes both on first run); otherwise one
    # random pair per Bot, so nothing ever runs open.
    api_token: str = ""
    action_token: str = ""

    def __post_init__(self) -> None:
        self.api_token = self._secret("RASA_API_TOKEN")
        self.action_token = self._secret("ACTION_SERVER_TOKEN")

    def _secret(self, key: str) -> str:
        return self.extra_env.get(key) or settings.get(key) or secrets.token_urlsafe(32)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def env(self) -> Dict[str, str]:
        env = settings.child_env()
        env.update(
            {
                "RASA_PORT": str(self.rasa_port),
                "ACTIONS_PORT": str(self.actions_port),
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "TRACKER_DB": str(self.tracker_db),
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "3",
                TOKEN_ENV: self.token,
            }
        )
        env.update(self.extra_env)
        env.update({"RASA_API_TOKEN": self.api_token, "ACTION_SERVER_TOKEN": self.action_token})
        return env

    def cors_origins(self) -> List[str]:
        """CORS_ORIGINS, or this bot's own origin (bot/security.py)."""
        configured = self.extra_env.get("CORS_ORIGINS", settings.get("CORS_ORIGINS"))
        public = self.extra_env.get("PUBLIC_URL") or settings.get("PUBLIC_URL") or self.url
        origins = [o.strip().rstrip("/") for o in configured.replace(",", " ").split() if o.strip()]
        return origins or ["/".join(public.split("/")[:3]).lower()]

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                args, cwd=settings.ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def _spawn_actions(self) -> subprocess.Popen:
        # bot/action_server.py: rasa_sdk's app, whose /health also reports the token.
        return self._spawn(
            "actions",
            [sys.executable, "-m", "bot.action_server", "--actions", "bot.actions", "--port", str(self.actions_port)],
        )

    def start_actions(self, timeout: float = 120) -> "Bot":
        """The action server alone (`make shell`)."""
        self.token = secrets.token_hex(16)
        actions = self._spawn_actions()
        try:
            wait_http(f"{self.actions_url}/health", timeout, actions, self.token)
        except Exception:
            self.stop()
            raise
        return self

    def start(self, timeout: float = 120) -> "Bot":
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(16)
        began = time.monotonic()
        actions = self._spawn_actions()
        rasa = self._spawn(
            "rasa",
            [
                sys.executable,
                "-m",
                "bot.server",
                "run",
                "--model",
                str(self.model),
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--credentials",
                str(settings.ROOT / "credentials.yml"),
                "--endpoints",
                str(self.endpoints),
                # The API needs RASA_API_TOKEN, which bot/server.py hands to Rasa from the
                # environment (not the command line, which `ps` shows to every local user).
                # CORS only for CORS_ORIGINS, never on /agent/ (bot/security.py).
                "--cors",
                *self.cors_origins(),
            ],
        )
        try:
            wait_http(f"{self.actions_url}/health", timeout, actions, self.token)
            # The Rasa server's /health answers once the model is loaded (like /status).
            wait_http(f"{self.url}/health", timeout, rasa, self.token)
        except Exception:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def rss_mb(self) -> float:
        """Resident memory of the Rasa server process tree, in MB."""
        total = 0
        for process in self.processes[1:]:
            total += _tree_rss_kb(process.pid)
        return total / 1024

    def __enter__(self) -> "Bot":
        return self if self.processes else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tree_rss_kb(pid: int) -> int:
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(_tree_rss_kb(int(child)) for child in children)
