"""Load (issue 12): 200 concurrent conversations over REST and 50 over socket.io for 60 s.

Each simulated customer goes through realistic conversations one after the other, in
Chinese or English (greetings, product questions, shipping, promotions, a recommendation,
an order lookup with the phone check, thanks), with a pause between messages as a person
typing; each conversation gets a new sender id. Over real HTTP against a bot of this
module (its own stores), with the client in one asyncio loop (aiohttp, and the
python-socketio client the widget's protocol).

Holds when: no server error (HTTP status, dropped connection, refused socket, timeout),
every message answered (REST: at least one message in the reply; socket.io: a bot message
within the timeout, and the tracker shows a bot message after every customer message), and
the peak resident memory of both servers under the bounds below. A turn that waited
ACTION_TIMEOUT for the action server gets the apology, by design (an answer): counted and
reported; more than APOLOGY_SHARE of the messages would mean the action server does not
keep up at all. (None at this load while the machine's other jobs were light; a few when
other jobs took most of the 2 cores.) The CPU time each server used per message is
reported too, which says how far this load is from a server's capacity whatever else runs.
The figures (messages/s, latency percentiles, peak memory, CPU) are written to
var/test/load/measured.json and printed with -s.

LOAD_SECONDS, LOAD_REST and LOAD_SOCKETIO in the environment shorten a local try.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
import socketio

from tests.support import responses
from tests.support.rest import RestClient

SECONDS = float(os.environ.get("LOAD_SECONDS", 60))
REST_CUSTOMERS = int(os.environ.get("LOAD_REST", 200))
SOCKETIO_CUSTOMERS = int(os.environ.get("LOAD_SOCKETIO", 50))
THINK_SECONDS = (4.0, 12.0)  # reading the reply and typing the next message
TURN_TIMEOUT = 30.0
APOLOGY_SHARE = 0.05
# Peak resident memory (the process tree of each server), with headroom over what was
# measured on a 2-core CI machine (README, "When a part fails").
RSS_BOUND_MB = {"rasa": 1200, "actions": 200}

CONVERSATIONS = {
    "zh": [
        ["你好", "北欧布艺沙发多少钱", "有什么颜色", "发新疆要几天", "谢谢"],
        ["你好", "我的订单SO20261101到哪了", "4608", "谢谢"],
        ["推荐一个500元以内的儿童衣柜", "有什么优惠活动", "能便宜点吗", "好的谢谢"],
        ["在吗", "我的订单SO20261107到哪了", "3054", "大概还要几天", "谢谢"],
        ["你好", "发顺丰要加多少钱", "保温电咖啡壶多少钱", "保修多久", "再见"],
        ["你们支持哪些付款方式", "可以开发票吗", "七天无理由退货吗", "谢谢"],
    ],
    "en": [
        ["hello", "how much is the Nordic Fabric Sofa", "what colours does it come in", "thanks"],
        ["hi", "where is my order SO20261113", "6621", "thank you"],
        ["can you recommend a kids wardrobe under 500 yuan", "any promotions right now", "thanks, bye"],
        ["hello", "how long does shipping to Xinjiang take", "can you send it by SF Express", "thanks"],
        ["do you accept Alipay", "can I get an invoice", "what is your return policy", "bye"],
    ],
}


@dataclass
class Tally:
    latencies: List[float] = field(default_factory=list)
    messages: int = 0
    conversations: int = 0
    errors: List[str] = field(default_factory=list)  # server errors: status, dropped connection, timeout
    unanswered: List[str] = field(default_factory=list)
    apologies: List[str] = field(default_factory=list)  # utter_service_trouble: the action server fell behind
    socket_sessions: List[str] = field(default_factory=list)

    def reply(self, who: str, text: str, took: float, said: List[str]) -> None:
        self.latencies.append(took)
        self.messages += 1
        if not any(said):
            self.unanswered.append(f"{who}: {text!r}")
        for line in said:
            if "utter_service_trouble" in responses.names(line):
                self.apologies.append(f"{who}: {text!r}")


async def think(rng: random.Random, deadline: float) -> None:
    """The customer reads the reply and types the next message (not past the end of the test)."""
    await asyncio.sleep(max(0.0, min(rng.uniform(*THINK_SECONDS), deadline - time.monotonic())))


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def rest_customer(index: int, url: str, session: aiohttp.ClientSession, deadline: float, tally: Tally) -> None:
    rng = random.Random(index)
    language = "zh" if index % 3 else "en"
    await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))  # customers arrive over the first seconds
    while time.monotonic() < deadline:
        who = f"load-rest-{index}-{uuid.uuid4().hex[:6]}"
        tally.conversations += 1
        for text in rng.choice(CONVERSATIONS[language]):
            if time.monotonic() >= deadline:
                return
            began = time.monotonic()
            try:
                async with session.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": who, "message": text},
                    timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT),
                ) as answer:
                    body = await answer.read()
                    if answer.status != 200:
                        tally.errors.append(f"{who}: {text!r}: HTTP {answer.status} {body[:100]!r}")
                        continue
                    said = [m.get("text", "") for m in json.loads(body)]
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                tally.errors.append(f"{who}: {text!r}: {type(error).__name__} {error}")
                continue
            tally.reply(who, text, time.monotonic() - began, said)
            await think(rng, deadline)


def _confirm(event: asyncio.Event, issued: List[str], session_id: Any = None, *_: Any) -> None:
    issued.append(str(session_id))
    event.set()


async def socketio_customer(index: int, url: str, deadline: float, tally: Tally) -> None:
    """What rasa-webchat does on the wire: session_request, then user_uttered with customData."""
    rng = random.Random(10_000 + index)
    language = "zh" if index % 3 else "en"
    await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))
    while time.monotonic() < deadline:
        inbox: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        confirmed, issued = asyncio.Event(), []  # the session id the server issues (signed)
        client = socketio.AsyncClient(reconnection=False, request_timeout=TURN_TIMEOUT)
        client.on("bot_uttered", inbox.put)
        client.on("session_confirm", functools.partial(_confirm, confirmed, issued))
        try:
            # Long-polling, as the widget starts: the installed python-engineio client's
            # websocket transport needs a newer aiohttp than Rasa 3.6 pins (ClientWSTimeout).
            await client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=TURN_TIMEOUT)
            await client.emit("session_request", {"session_id": None})
            await asyncio.wait_for(confirmed.wait(), TURN_TIMEOUT)
            session_id = issued[0]
        except Exception as error:  # noqa: BLE001 - any failure to connect is a server error here
            tally.errors.append(f"load-sio-{index}: connect: {type(error).__name__} {error}")
            await client.disconnect()
            await asyncio.sleep(1)
            continue
        tally.conversations += 1
        tally.socket_sessions.append(session_id)
        try:
            for text in rng.choice(CONVERSATIONS[language]):
                if time.monotonic() >= deadline:
                    break
                while not inbox.empty():  # the rest of the previous turn
                    inbox.get_nowait()
                began = time.monotonic()
                await client.emit(
                    "user_uttered", {"message": text, "session_id": session_id, "customData": {"language": language}}
                )
                try:
                    first = await asyncio.wait_for(inbox.get(), TURN_TIMEOUT)
                except asyncio.TimeoutError:
                    tally.errors.append(f"{session_id}: {text!r}: no answer within {TURN_TIMEOUT:.0f} s")
                    continue
                tally.reply(session_id, text, time.monotonic() - began, [first.get("text", "")])
                await think(rng, deadline)
        finally:
            await client.disconnect()


class MemoryPeaks:
    """Samples the resident memory of both servers' process trees every half second."""

    def __init__(self, bot: Any) -> None:
        self.bot, self.peaks = bot, {"rasa": 0.0, "actions": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for name in self.peaks:
                self.peaks[name] = max(self.peaks[name], self.bot.rss_mb(name))

    def __enter__(self) -> "MemoryPeaks":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children have used so far."""
    try:
        fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
        children = open(f"/proc/{pid}/task/{pid}/children", encoding="ascii").read().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def high_water_mb(pid: int) -> Optional[float]:
    """The kernel's own peak resident memory (VmHWM) of one process."""
    try:
        for line in open(f"/proc/{pid}/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def load(bot: Any, deadline: float) -> Dict[str, Tally]:
    tallies = {"rest": Tally(), "socketio": Tally()}
    connector = aiohttp.TCPConnector(limit=REST_CUSTOMERS + 10)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            *(rest_customer(i, bot.url, session, deadline, tallies["rest"]) for i in range(REST_CUSTOMERS)),
            *(socketio_customer(i, bot.url, deadline, tallies["socketio"]) for i in range(SOCKETIO_CUSTOMERS)),
        )
    return tallies


@pytest.fixture(scope="module")
def load_bot(bot_factory):
    bot = bot_factory.started_bot("load")
    RestClient.of(bot).texts("warm-up", "你好")
    return bot


def test_concurrent_conversations_over_rest_and_socketio(load_bot):
    servers = {name: load_bot.servers[name].pid for name in ("rasa", "actions")}
    cpu_before = {name: cpu_seconds(pid) for name, pid in servers.items()}
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    with MemoryPeaks(load_bot) as memory:
        tallies = asyncio.run(load(load_bot, began + SECONDS))
    elapsed = time.monotonic() - began  # SECONDS, and the last answers
    cpu_used = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in servers.items()}

    # socket.io: the tracker is the record that every customer message got a bot message.
    rest = RestClient.of(load_bot)
    for session_id in tallies["socketio"].socket_sessions:
        events = [e["event"] for e in rest.tracker(session_id)["events"] if e["event"] in ("user", "bot")]
        for position, event in enumerate(events):
            if event == "user" and "bot" not in events[position + 1 : position + 2]:
                tallies["socketio"].unanswered.append(f"{session_id}: user message {position} has no answer")

    measured: Dict[str, Any] = {"seconds": round(elapsed, 1)}
    for channel, tally in tallies.items():
        measured[channel] = {
            "customers": REST_CUSTOMERS if channel == "rest" else SOCKETIO_CUSTOMERS,
            "conversations": tally.conversations,
            "messages": tally.messages,
            "messages_per_s": round(tally.messages / elapsed, 1),
            "p50_ms": round(percentile(tally.latencies, 0.50) * 1000),
            "p95_ms": round(percentile(tally.latencies, 0.95) * 1000),
            "p99_ms": round(percentile(tally.latencies, 0.99) * 1000),
            "max_ms": round(max(tally.latencies, default=0) * 1000),
            "server_errors": len(tally.errors),
            "unanswered": len(tally.unanswered),
            "service_trouble_apologies": len(tally.apologies),
            "samples": (tally.errors + tally.unanswered + tally.apologies)[:5],
        }
    both = tallies["rest"].latencies + tallies["socketio"].latencies
    measured["all"] = {
        "messages_per_s": round(len(both) / elapsed, 1),
        "p99_ms": round(percentile(both, 0.99) * 1000),
    }
    measured["server_cpu_ms_per_message"] = {
        name: round(1000 * used / max(1, len(both))) for name, used in cpu_used.items()
    }
    measured["server_cpu_share_of_a_core"] = {name: round(used / elapsed, 2) for name, used in cpu_used.items()}
    measured["machine_load_average"] = {"before": load_before, "after": os.getloadavg()[0], "cpus": os.cpu_count()}
    measured["peak_rss_mb"] = {name: round(peak) for name, peak in memory.peaks.items()}
    measured["VmHWM_mb"] = {name: high_water_mb(load_bot.servers[name].pid) for name in ("rasa", "actions")}
    path = load_bot.log_dir.parent / "measured.json"
    path.write_text(json.dumps(measured, indent=2), encoding="utf-8")
    print(f"\nload test ({path}):\n{json.dumps(measured, indent=2)}")

    for channel, tally in tallies.items():
        assert tally.errors == [], (channel, tally.errors[:10])
        assert tally.unanswered == [], (channel, tally.unanswered[:10])
        assert len(tally.apologies) <= APOLOGY_SHARE * tally.messages, (channel, tally.apologies[:10])
        assert tally.messages > 0
    for name, bound in RSS_BOUND_MB.items():
        assert memory.peaks[name] < bound, (name, memory.peaks[name], bound)
    log = (load_bot.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert [line for line in log.splitlines() if " ERROR " in line] == []
