"""scripts/servers.py: ports from the OS, and a server counts as up only with this run's token."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.servers import free_ports, wait_http


def test_free_ports_are_distinct_and_free():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


@pytest.fixture
def health():
    """A stub answering /health with whatever token it is given."""
    state = {"token": "left-over-run"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "token": state["token"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", state
    server.shutdown()
    server.server_close()


def test_a_server_with_another_token_is_not_taken_for_this_run(health):
    url, state = health
    with pytest.raises(TimeoutError, match="left-over-run"):
        wait_http(url, 0.5, token="this-run")
    state["token"] = "this-run"
    assert wait_http(url, 5, token="this-run") < 5


# -- supervision: a server that exits is restarted, with growing delays ----------------------


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid, self.code = pid, None

    def poll(self):
        return self.code


class FakeBot:
    """What the Supervisor uses of a Bot, with processes that exit when told."""

    def __init__(self, log_dir) -> None:
        self.servers = {"actions": FakeProcess(1), "rasa": FakeProcess(2)}
        self.token, self.log_dir, self.spawned = "run-token", log_dir, []

    def respawn(self, name: str) -> FakeProcess:
        process = FakeProcess(100 + len(self.spawned))
        self.servers[name] = process
        self.spawned.append(name)
        return process

    def health_url(self, name: str) -> str:
        return name


@pytest.fixture
def supervised(tmp_path, monkeypatch):
    """(supervisor, bot, clock, healthy, log lines) with a fake clock and fake /health."""
    import scripts.servers as servers

    clock, healthy, lines = [0.0], {"actions": True, "rasa": True}, []
    monkeypatch.setattr(servers, "answers", lambda url, token: healthy[url] and token == "run-token")
    bot = FakeBot(tmp_path)
    supervisor = servers.Supervisor(
        bot, log=lines.append, min_delay=1, max_delay=8, stable_seconds=30, ready_timeout=60, clock=lambda: clock[0]
    )
    return supervisor, bot, clock, healthy, lines


def at(clock, seconds):
    clock[0] = seconds


def test_an_exited_server_is_restarted_after_the_delay_and_reported_back(supervised):
    supervisor, bot, clock, healthy, lines = supervised
    rasa = bot.servers["rasa"]
    bot.servers["actions"].code = -9
    supervisor.poll()
    assert lines == [
        "action server was killed by SIGKILL (pid 1); restarting in 1 s; see " + str(bot.log_dir / "actions.log")
    ]
    at(clock, 0.5)
    supervisor.poll()
    assert bot.spawned == []  # not before the delay
    at(clock, 1.0)
    healthy["actions"] = False  # starting: not answering yet
    supervisor.poll()
    assert bot.spawned == ["actions"] and lines[-1] == "action server: restarted (pid 100), waiting for it to answer"
    at(clock, 1.5)
    supervisor.poll()
    assert len(lines) == 2
    healthy["actions"] = True
    at(clock, 2.5)
    supervisor.poll()
    assert lines[-1] == "action server: back (pid 100), 2.5 s after it went down"
    assert supervisor.restarts == [{"server": "actions", "seconds": 2.5, "exits": 1}]
    assert bot.servers["rasa"] is rasa and "rasa" not in bot.spawned  # the other server kept serving


def test_a_server_that_keeps_crashing_waits_longer_each_time_and_says_so(supervised):
    supervisor, bot, clock, healthy, lines = supervised
    healthy["rasa"] = False
    waits = []
    now = 0.0
    for _ in range(6):
        bot.servers["rasa"].code = 1  # dies while starting, before it ever answers
        supervisor.poll()
        wait = supervisor.watches["rasa"].restart_at - now
        waits.append(wait)
        now += wait
        at(clock, now)
        supervisor.poll()  # restarted
    assert waits == [1, 2, 4, 8, 8, 8]
    crashing = [line for line in lines if "keeps crashing" in line]
    assert len(crashing) == 4 and "exited with code 1 (3 exits in a row); next restart in 4 s" in crashing[0]
    assert "delays double up to 8 s" in crashing[0] and str(bot.log_dir / "rasa.log") in crashing[0]
    healthy["rasa"] = True  # the cause went away: back, counted from its first exit
    supervisor.poll()
    assert supervisor.restarts == [{"server": "rasa", "seconds": now, "exits": 6}]
    assert lines[-1] == f"Rasa server: back (pid 105), {now:.1f} s after it went down"


def test_a_server_that_stayed_up_is_restarted_quickly_again(supervised):
    supervisor, bot, clock, healthy, lines = supervised
    for exits, delay in ((1, 1), (2, 2)):
        bot.servers["actions"].code = -9
        supervisor.poll()
        assert supervisor.watches["actions"].exits == exits
        at(clock, clock[0] + delay)
        supervisor.poll()  # restarted
        supervisor.poll()  # answers: back
    at(clock, clock[0] + 31)  # up for longer than stable_seconds
    supervisor.poll()
    bot.servers["actions"].code = -9
    supervisor.poll()
    assert supervisor.watches["actions"].exits == 1 and lines[-1].endswith(
        "restarting in 1 s; see " + str(bot.log_dir / "actions.log")
    )


def test_a_restarted_server_that_never_answers_is_killed_and_retried(supervised, monkeypatch):
    import scripts.servers as servers

    supervisor, bot, clock, healthy, lines = supervised
    killed = []
    monkeypatch.setattr(servers, "_kill_group", lambda process: killed.append(process.pid))
    bot.servers["rasa"].code = -9
    supervisor.poll()
    healthy["rasa"] = False
    at(clock, 1)
    supervisor.poll()  # restarted, hangs
    at(clock, 62)
    supervisor.poll()
    assert killed == [100] and "no answer 60 s after its restart; killing it" in lines[-2]
    assert supervisor.watches["rasa"].exits == 2 and "restarting in 2 s" in lines[-1]


HEALTH_STUB = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok", "token": os.environ["BOT_RUN_TOKEN"]}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def test_the_supervisor_thread_restarts_a_killed_process_on_its_port(tmp_path):
    """Real processes: kill -9 one, the thread of Bot.supervise() starts it again, and
    Bot.stop() stops the thread before the servers (nothing comes back after it)."""
    import os
    import signal
    import sys
    import time

    from scripts.servers import Bot, wait_http

    rasa_port, actions_port = free_ports(2)
    bot = Bot(
        model=tmp_path / "none",
        rasa_port=rasa_port,
        actions_port=actions_port,
        tracker_db=tmp_path / "t.db",
        log_dir=tmp_path / "log",
    )
    bot.token = "supervised-run"
    for name, port in (("actions", actions_port), ("rasa", rasa_port)):
        bot._spawn(name, [sys.executable, "-c", HEALTH_STUB, str(port)])
        wait_http(bot.health_url(name), 10, bot.servers[name], bot.token)
    try:
        supervisor = bot.supervise(min_delay=0.2, interval=0.1)
        first = bot.servers["actions"]
        os.kill(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while not supervisor.restarts and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervisor.restarts and supervisor.restarts[0]["server"] == "actions"
        assert bot.servers["actions"] is not first and bot.servers["actions"].poll() is None
        assert wait_http(bot.health_url("actions"), 1, token=bot.token) < 1
        log = (tmp_path / "log" / "supervisor.log").read_text()
        assert "action server was killed by SIGKILL" in log and "action server: back" in log
    finally:
        bot.stop()
    assert bot.supervisor is None and bot.servers == {}
    assert not supervisor._thread.is_alive()
