"""Start the action server and the Rasa server, wait until both answer, stop them.

Used by `make run`, the test suite and `make bench`, so all three run the bot the same
way. Each process gets its own environment (ports, tracker file) from bot.settings.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import settings

BIN = Path(sys.executable).parent


def wait_http(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> float:
    """Seconds until `url` answers 200; raise if the process dies or time runs out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def env(self) -> Dict[str, str]:
        env = settings.child_env()
        env.update({
            "RASA_PORT": str(self.rasa_port),
            "ACTIONS_PORT": str(self.actions_port),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "TRACKER_DB": str(self.tracker_db),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        })
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=settings.ROOT, env=self.env(), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start(self, timeout: float = 120) -> "Bot":
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        actions = self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions",
                                          "--port", str(self.actions_port)])
        rasa = self._spawn("rasa", [
            sys.executable, "-m", "bot.server", "run", "--model", str(self.model), "--enable-api",
            "--interface", "127.0.0.1", "--port", str(self.rasa_port),
            "--credentials", str(settings.ROOT / "credentials.yml"),
            "--endpoints", str(self.endpoints), "--cors", "*",
        ])
        try:
            wait_http(f"http://127.0.0.1:{self.actions_port}/health", timeout, actions)
            # /status answers once the model is loaded, not merely when the port is open.
            wait_http(f"{self.url}/status", timeout, rasa)
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
