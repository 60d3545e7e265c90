"""Start the action server and the Rasa server, wait until both answer, keep them up, stop them.

Used by `make run`, `make shell`, the test suite, `make test-stories` and `make bench`, so
all of them run the bot the same way. Each process gets its own environment (ports,
tracker file) from bot.settings, and each start a random token (bot/health.py): a server
counts as up when its /health answers with that token, never merely because something
answers on its port (a server left over from an aborted run, another checkout's tests).

`Supervisor` restarts a server that exits (a crash, `kill -9`) instead of letting one
failed process take the whole service down: after RESTART_MIN_DELAY seconds, doubling
while the server keeps exiting (up to RESTART_MAX_DELAY), with a line in the log for each
exit, restart and recovery. `make run` (scripts/run.py) polls it in its main loop; the
fault tests run the same code in a thread (`Bot.supervise()`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

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


def answers(url: str, token: str, timeout: float = 0.5) -> bool:
    """One try: does `url` answer 200 with this run's token?"""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200 and json.loads(response.read()).get("token") == token
    except (OSError, ValueError, AttributeError):
        return False


# The servers of a bot, in start order, and what the log calls them.
SERVERS = {"actions": "action server", "rasa": "Rasa server"}


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
    servers: Dict[str, subprocess.Popen] = field(default_factory=dict)  # "actions", "rasa" -> process
    commands: Dict[str, List[str]] = field(default_factory=dict)  # how each was started
    ready_seconds: float = 0.0
    token: str = ""  # this start's BOT_RUN_TOKEN, new at each start()
    supervisor: Optional["Supervisor"] = None
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
    def processes(self) -> List[subprocess.Popen]:
        return list(self.servers.values())

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
        self.servers[name] = process
        self.commands[name] = args
        return process

    def respawn(self, name: str) -> subprocess.Popen:
        """Start server `name` again, as it was started (same port, same run token)."""
        return self._spawn(name, self.commands[name])

    def health_url(self, name: str) -> str:
        return f"{self.actions_url if name == 'actions' else self.url}/health"

    def supervise(self, **options: object) -> "Supervisor":
        """Keep the servers up from a background thread (the fault tests; `make run`
        polls a Supervisor in its main loop instead). Stopped by stop()."""
        self.supervisor = Supervisor(self, **options)  # type: ignore[arg-type]
        self.supervisor.start()
        return self.supervisor

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
        if self.supervisor is not None:
            self.supervisor.stop()  # first, or it would restart what is being stopped
            self.supervisor = None
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.servers.clear()

    def rss_mb(self, name: str = "rasa") -> float:
        """Resident memory of a server's process tree (the Rasa server's by default), in MB."""
        process = self.servers.get(name)
        return _tree_rss_kb(process.pid) / 1024 if process is not None else 0.0

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


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class _Watch:
    """What the supervisor knows about one server."""

    started_at: float  # when its current process was started
    ready_at: Optional[float]  # when that process answered /health; None while starting
    exits: int = 0  # exits in a row (back to 0 once it has stayed up `stable_seconds`)
    restart_at: Optional[float] = None  # exited: when to start it again
    down_since: Optional[float] = None  # the first exit since it last answered


class Supervisor:
    """Restarts the servers of a running Bot when they exit, with growing delays.

    poll() looks at each server once: an exited server is restarted after
    `min_delay` * 2^(exits in a row - 1) seconds (at most `max_delay`); a restarted
    server counts as back once its /health answers with the run's token, and as stable
    after `stable_seconds` up, which resets its delay. A server that does not answer within
    `ready_timeout` of its restart is killed and counts as another exit.
    """

    def __init__(
        self,
        bot: Bot,
        log: Optional[Callable[[str], None]] = None,
        min_delay: Optional[float] = None,
        max_delay: Optional[float] = None,
        stable_seconds: Optional[float] = None,
        ready_timeout: float = 240.0,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.say = log or self._log_to_file
        self.min_delay = float(min_delay if min_delay is not None else settings.get("RESTART_MIN_DELAY"))
        self.max_delay = float(max_delay if max_delay is not None else settings.get("RESTART_MAX_DELAY"))
        self.stable_seconds = float(
            stable_seconds if stable_seconds is not None else settings.get("RESTART_STABLE_SECONDS")
        )
        self.ready_timeout, self.interval, self.clock = ready_timeout, interval, clock
        now = clock()
        self.watches = {name: _Watch(started_at=now, ready_at=now) for name in bot.servers}
        self.restarts: List[Dict[str, object]] = []  # one entry per server back after an exit
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _log_to_file(self, line: str) -> None:
        """Default log: stderr, and supervisor.log beside the servers' logs."""
        stamped = f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} supervisor: {line}"
        print(stamped, file=sys.stderr, flush=True)
        self.bot.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.bot.log_dir / "supervisor.log", "a", encoding="utf-8") as log:
            log.write(stamped + "\n")

    def delay(self, exits: int) -> float:
        return min(self.max_delay, self.min_delay * 2 ** max(0, exits - 1))

    def poll(self) -> None:
        for name in list(self.bot.servers):
            if not self._stopping.is_set():
                self._check(name, self.clock())

    def _check(self, name: str, now: float) -> None:
        watch, process = self.watches[name], self.bot.servers[name]
        label, log_file = SERVERS.get(name, name), self.bot.log_dir / f"{name}.log"
        if watch.restart_at is not None:
            if now >= watch.restart_at:
                process = self.bot.respawn(name)
                watch.restart_at, watch.started_at, watch.ready_at = None, now, None
                self.say(f"{label}: restarted (pid {process.pid}), waiting for it to answer")
            return
        code = process.poll()
        if code is None and watch.ready_at is None:
            if answers(self.bot.health_url(name), self.bot.token):
                watch.ready_at = now
                down = now - (watch.down_since if watch.down_since is not None else watch.started_at)
                watch.down_since = None
                self.restarts.append({"server": name, "seconds": down, "exits": watch.exits})
                self.say(f"{label}: back (pid {process.pid}), {down:.1f} s after it went down")
                return
            if now - watch.started_at < self.ready_timeout:
                return
            self.say(f"{label}: no answer {self.ready_timeout:.0f} s after its restart; killing it")
            _kill_group(process)
            code = process.poll()
            code = -signal.SIGKILL if code is None else code
        if code is None:
            if watch.exits and watch.ready_at is not None and now - watch.ready_at >= self.stable_seconds:
                watch.exits = 0  # stayed up: the next exit is restarted quickly again
            return
        watch.exits += 1
        watch.down_since = now if watch.down_since is None else watch.down_since
        wait = self.delay(watch.exits)
        watch.restart_at = now + wait
        if watch.exits >= 3:
            self.say(
                f"{label} keeps crashing: it {_exit_reason(code)} ({watch.exits} exits in a row); next restart "
                f"in {wait:.0f} s (delays double up to {self.max_delay:.0f} s); see {log_file}"
            )
        else:
            self.say(f"{label} {_exit_reason(code)} (pid {process.pid}); restarting in {wait:.0f} s; see {log_file}")

    def start(self) -> "Supervisor":
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.poll()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
