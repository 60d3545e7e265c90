"""Issue 12's attacks against a real bot over real HTTP (and socket.io, and a WeChat push),
each of which got through before: the open API, CORS, phone-digit brute force, intents
typed by customers, a chosen channel, joined website sessions, oversized input, floods,
console logins, sessions that outlived logout, secrets in logs, replayed WeChat requests,
an open action server.

One bot of this module ("security"): behind one trusted proxy (PROXIES_COUNT=1), so each
test speaks as its own client through X-Forwarded-For; low rate limits and login limits;
CORS for SHOP only; WeChat in plain mode whose API (WECHAT_API_BASE) is a port where
nobody listens, so every send fails and is logged. The log check runs last.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional

import pytest
import socketio

from bot.accounts import Accounts
from scripts.servers import free_ports
from tests.support.bots import AGENT, PASSWORD, SECRET, store_of
from tests.support.rest import RestClient
from tests.support.waiting import wait_until
from tests.support.web import Http, LoginRefused, conversation_of
from tests.support.wechat import AES_KEY, APP_SECRET, TOKEN, bot_env, openid, pusher

SHOP = "https://shop.example"
EVIL = "https://evil.example"
PER_CLIENT, PER_CONVERSATION = 20, 10
LOGIN_PER_ACCOUNT, LOGIN_PER_CLIENT = 3, 6
ORDER, DIGITS, TRACKING = "SO20261101", "4608", "75361248097531"
LOCKED = "多次不一致"  # utter_order_locked
MISMATCH = "不一致"  # utter_phone_mismatch (and the lock)
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def guarded(bot_factory) -> Any:
    nobody = f"http://127.0.0.1:{free_ports(1)[0]}"  # a WeChat API that never answers
    return bot_factory.started_bot(
        "security",
        PROXIES_COUNT="1",
        RATE_LIMIT_PER_CLIENT=str(PER_CLIENT),
        RATE_LIMIT_PER_CONVERSATION=str(PER_CONVERSATION),
        LOGIN_MAX_FAILURES_PER_ACCOUNT=str(LOGIN_PER_ACCOUNT),
        LOGIN_MAX_FAILURES_PER_CLIENT=str(LOGIN_PER_CLIENT),
        CORS_ORIGINS=SHOP,
        SANIC_GRACEFUL_SHUTDOWN_TIMEOUT="1",  # socket.io long-polls would hold the stop for 15 s
        **bot_env(nobody, "plain", WECHAT_PASSIVE_TIMEOUT="0"),  # every answer through the API
    )


def address() -> str:
    return next(_addresses)


def client(bot: Any, token: bool = True, ip: Optional[str] = None) -> RestClient:
    """A REST client speaking from its own address (with or without the API token)."""
    return RestClient(bot.url, bot.api_token if token else None, {"X-Forwarded-For": ip or address()})


def console(bot: Any, ip: Optional[str] = None) -> Http:
    return Http(bot.url, {"X-Forwarded-For": ip or address()})


def said(rest: RestClient, sender: str, text: str) -> str:
    return "\n".join(rest.texts(sender, text))


def user_event(bot: Any, sender: str, text: str) -> Dict[str, Any]:
    events = RestClient.of(bot).tracker(sender)["events"]
    return [e for e in events if e["event"] == "user" and e.get("text") == text][-1]


# -- 1. Rasa's HTTP API ----------------------------------------------------------------------


def test_api_needs_the_token(guarded):
    owner = client(guarded)
    assert "您好" in said(owner, "api-victim", "你好")
    for api in (client(guarded, token=False), RestClient(guarded.url, "wrong-token")):
        for method, path, body in (
            ("GET", "/conversations/api-victim/tracker", None),
            ("POST", "/conversations/api-victim/tracker/events", b'[{"event": "bot", "text": "pwned"}]'),
            ("POST", "/conversations/api-victim/trigger_intent", b'{"name": "greet"}'),
            ("POST", "/model/parse", b'{"text": "hi"}'),
            ("GET", "/status", None),
            ("PUT", "/model", b"{}"),
            ("DELETE", "/model", None),
        ):
            status, _, raw = api.request_raw(method, api.api(path), body, {"Content-Type": "application/json"})
            assert status in (401, 403), (method, path, status)
            assert b"\\u4f60\\u597d" not in raw and "你好".encode() not in raw
    events = owner.tracker("api-victim")["events"]
    assert [e["text"] for e in events if e["event"] == "bot"] and "pwned" not in json.dumps(events)
    # The public prefixes lead to no API function, however the path is spelled.
    anonymous = client(guarded, token=False)
    for path in ("/webhooks/rest/../../conversations/api-victim/tracker", "/webhooks/conversations/api-victim/tracker"):
        status, _, raw = anonymous.request_raw("GET", path + "?token=" + guarded.api_token)
        assert status == 404 and b"events" not in raw, path


# -- 1. CORS -------------------------------------------------------------------------------


def test_cross_origin_requests_get_no_cors_grant(guarded):
    def grants(method: str, path: str, origin: str, body: Optional[bytes] = None, **headers: str) -> Dict[str, str]:
        got = client(guarded, token=False).request_raw(method, path, body, {"Origin": origin, **headers})[1]
        return {k.lower(): v for k, v in got.items() if k.lower().startswith("access-control-")}

    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for origin in (EVIL, SHOP):  # the console: never, not even for an allowed origin
        assert grants("GET", "/agent/api/tickets", origin) == {}
        assert grants("OPTIONS", "/agent/api/tickets", origin, **preflight) == {}
        assert grants("POST", "/agent/login", origin, b"") == {}
    body = b'{"sender": "cors-test", "message": "hi"}'
    assert grants("POST", "/webhooks/rest/webhook", EVIL, body, **{"Content-Type": "application/json"}) == {}
    assert grants("OPTIONS", "/webhooks/rest/webhook", EVIL, **preflight) == {}
    allowed = grants("POST", "/webhooks/rest/webhook", SHOP, body, **{"Content-Type": "application/json"})
    assert allowed["access-control-allow-origin"] == SHOP and "access-control-allow-credentials" not in allowed
    # socket.io (engineio): other sites are refused, the allowed one and the page itself served.
    handshake = "/socket.io/?EIO=4&transport=polling"
    assert client(guarded, token=False).request_raw("GET", handshake, None, {"Origin": EVIL})[0] == 400
    for origin in (SHOP, guarded.url):
        status, headers, _ = client(guarded, token=False).request_raw("GET", handshake, None, {"Origin": origin})
        assert status == 200 and headers.get("Access-Control-Allow-Origin") == origin
        assert "Access-Control-Allow-Credentials" not in headers


# -- 2. phone digits: brute force and enumeration ----------------------------------------------


def test_digit_brute_force_locks_the_order_across_ids_senders_and_restart(guarded):
    attacker = client(guarded)
    assert "后4位" in said(attacker, "brute-a", f"我的订单{ORDER}到哪了")
    assert MISMATCH in said(attacker, "brute-a", "0000")
    assert MISMATCH in said(attacker, "brute-a", "0001")
    assert "后4位" in said(attacker, "brute-a", ORDER)  # naming the order again resets nothing
    assert MISMATCH in said(attacker, "brute-a", "0002")
    said(attacker, "brute-a", "/restart")  # typed: text, it wipes nothing either
    assert "后4位" in said(attacker, "brute-a", f"我的订单{ORDER}到哪了")
    assert MISMATCH in said(attacker, "brute-a", "0003")
    other = client(guarded)  # a new sender, from another address
    assert "后4位" in said(other, "brute-b", f"查一下订单{ORDER}")
    assert LOCKED in said(other, "brute-b", "0004")  # the fifth miss locks the order
    rightful = client(guarded)  # even the right digits, from anyone, are refused now
    first = said(rightful, "brute-c", f"查一下订单{ORDER}")
    answers = first + said(rightful, "brute-c", DIGITS) + said(rightful, "brute-c", f"{ORDER} {DIGITS}")
    assert LOCKED in first and TRACKING not in answers


def test_unknown_and_existing_order_ids_are_answered_alike(guarded):
    rest = client(guarded)

    def asked(sender: str, order: str) -> List[str]:
        return [said(rest, sender, f"我的订单{order}到哪了").replace(order, "<id>"), said(rest, sender, "1234")]

    assert asked("alike-known", "SO20261102") == asked("alike-unknown", "SO99999999")


# -- 3. intents typed by customers ---------------------------------------------------------------


def test_typed_intent_with_entities_is_text(guarded):
    rest = client(guarded)
    typed = '/inform{"order_id":"SO20261101","complaint_category":"quality"}'
    rest.texts("typed-intent", typed)
    parsed = user_event(guarded, "typed-intent", typed)["parse_data"]
    assert not [e for e in parsed["entities"] if e.get("extractor") == "RegexMessageHandler"], parsed["entities"]
    assert len(parsed.get("intent_ranking") or []) > 1  # the NLU's ranking, not a single forced intent
    # The bot's own buttons still work: offered, then clicked.
    first = rest.send("typed-button", "我对这次购物体验很不满意")
    payloads = [b["payload"] for m in first for b in m.get("buttons") or []]
    assert '/inform{"complaint_category": "quality"}' in payloads
    rest.texts("typed-button", '/inform{"complaint_category": "quality"}')
    clicked = user_event(guarded, "typed-button", '/inform{"complaint_category": "quality"}')["parse_data"]
    assert clicked["intent"]["name"] == "inform"
    assert {"entity": "complaint_category", "value": "quality"}.items() <= clicked["entities"][0].items()


def test_typed_restart_is_text_and_the_conversation_survives(guarded):
    rest = client(guarded)
    assert "Hello" in said(rest, "typed-restart", "hello there")
    rest.texts("typed-restart", "/restart")
    tracker = RestClient.of(guarded).tracker("typed-restart")
    assert not [e for e in tracker["events"] if e["event"] == "restart"]
    assert user_event(guarded, "typed-restart", "/restart")["parse_data"]["intent"]["name"] != "restart"
    assert [e.get("text") for e in tracker["events"] if e["event"] == "user"] == ["hello there", "/restart"]
    assert tracker["slots"]["language"] == "en"  # nothing was wiped
    assert said(rest, "typed-restart", "thanks a lot")


# -- 4. identity ---------------------------------------------------------------------------------


def test_rest_cannot_choose_its_channel(guarded):
    rest = client(guarded)
    body = {"sender": "claims-wechat", "message": "你好", "input_channel": "wechat"}
    assert rest.post_json("/webhooks/rest/webhook", body)
    tracker = RestClient.of(guarded).tracker("claims-wechat")
    assert tracker["latest_input_channel"] == "rest"
    assert {e.get("input_channel") for e in tracker["events"] if e["event"] == "user"} == {"rest"}


class Widget:
    """rasa-webchat on the wire, from its own address."""

    def __init__(self, bot: Any, session_id: Optional[str] = None, ip: Optional[str] = None) -> None:
        self.inbox: "queue.Queue[str]" = queue.Queue()
        self.confirmed: Optional[str] = None
        done = threading.Event()

        def confirm(session: str) -> None:
            self.confirmed = session
            done.set()

        self.client = socketio.Client()
        self.client.on("bot_uttered", lambda data: self.inbox.put(data.get("text", "")))
        self.client.on("session_confirm", confirm)
        self.client.connect(
            bot.url, socketio_path="/socket.io", transports=["polling"], headers={"X-Forwarded-For": ip or address()}
        )
        self.client.emit("session_request", {"session_id": session_id})
        assert done.wait(10), "no session_confirm"

    def send(self, text: str, session_id: Optional[str] = None) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": session_id or self.confirmed})

    def first(self, seconds: float) -> Optional[str]:
        """The next text, as soon as it comes (None after `seconds`)."""
        try:
            return self.inbox.get(timeout=seconds)
        except queue.Empty:
            return None

    def received(self, seconds: float) -> List[str]:
        texts, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                texts.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return texts

    def close(self) -> None:
        self.client.disconnect()


def test_joining_another_website_session_is_refused(guarded):
    victim = Widget(guarded)
    session = victim.confirmed
    conversation = conversation_of(session)
    intruders: List[Widget] = []
    try:
        victim.send("你好")
        assert "您好" in (victim.first(10) or "")
        # Guessed or seen ids: the bare conversation id, a forged signature, a made-up one.
        for asked in (conversation, f"{conversation}.{'0' * 32}", "x" * 20):
            intruder = Widget(guarded, asked)
            intruders.append(intruder)
            assert intruder.confirmed != session and conversation_of(intruder.confirmed) != conversation
        # A message naming the victim's session goes to the intruder's own conversation.
        intruders[0].send("我是谁", session_id=session)
        assert intruders[0].first(10), "the intruder's own chat did not answer"
        victim.send("谢谢")
        assert victim.first(10)
        for intruder in intruders:
            assert intruder.received(0.3) == [], "an intruder received the victim's messages"
        texts = [e.get("text") for e in RestClient.of(guarded).tracker(conversation)["events"] if e["event"] == "user"]
        assert texts == ["你好", "谢谢"]
        # The rightful browser after a reload: its own signed id brings it back to its conversation.
        victim.close()
        reloaded = Widget(guarded, session)
        intruders.append(reloaded)
        assert reloaded.confirmed == session
        reloaded.send("在吗")
        assert reloaded.first(10)
        assert "在吗" in [e.get("text") for e in RestClient.of(guarded).tracker(conversation)["events"]]
    finally:
        for widget in [victim, *intruders]:
            widget.close()


# -- 4. sizes -------------------------------------------------------------------------------------


def test_oversized_bodies_and_metadata_are_refused_with_a_reason(guarded):
    rest = client(guarded)
    status, raw = rest.post_raw(
        "/webhooks/rest/webhook", json.dumps({"sender": "big", "message": "x" * 1_200_000}).encode()
    )
    assert status == 413 and "larger than" in json.loads(raw)["error"]
    for metadata, reason in (
        ({"language": "en", "page": "/shop/"}, "may only contain language"),
        ({"is_external": True}, "may only contain language"),
        ({"language": "x" * 500}, "at most 16 characters"),
        ({"language": "en", "blob": "x" * 900_000}, "larger than 1024 bytes"),
    ):
        body = json.dumps({"sender": "big", "message": "hi", "metadata": metadata}).encode()
        status, raw = rest.post_raw("/webhooks/rest/webhook", body)
        assert status == 400 and reason in json.loads(raw)["message"], (metadata, raw[:200])
    assert RestClient.of(guarded).tracker("big")["events"] == [] or not [
        e for e in RestClient.of(guarded).tracker("big")["events"] if e["event"] == "user"
    ]
    assert "Hello" in said(rest, "big-after", "hello")  # and the bot keeps serving


# -- 5. rate limits ---------------------------------------------------------------------------------


def _flood(rest: RestClient, senders: Any, limit: int) -> Dict[str, Any]:
    for count, sender in enumerate(senders, 1):
        status, headers, raw = rest.request_raw(
            "POST",
            "/webhooks/rest/webhook",
            json.dumps({"sender": sender, "message": "你好"}).encode(),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            return {"count": count, "status": status, "headers": headers, "body": json.loads(raw)}
        assert count <= limit + 3, "no limit"
    raise AssertionError("no limit")


def test_rest_is_rate_limited_per_conversation_and_per_client(guarded):
    from tests.support.responses import names

    refused = _flood(client(guarded), itertools.repeat("flooder"), PER_CONVERSATION)
    assert refused["status"] == 429 and refused["count"] >= PER_CONVERSATION
    assert int(refused["headers"]["Retry-After"]) >= 1
    assert names(refused["body"]["message"], "zh") == {"utter_rate_limited"}  # polite, in Chinese
    assert "您好" in said(client(guarded), "bystander", "你好")  # others are still answered
    refused = _flood(client(guarded), (f"flooder-{n}" for n in itertools.count()), PER_CLIENT)
    assert refused["status"] == 429 and refused["count"] >= PER_CLIENT


def test_website_flood_gets_a_polite_note(guarded):
    from tests.support.responses import names

    widget = Widget(guarded)
    try:
        for _ in range(PER_CONVERSATION + 3):
            widget.send("hello")
        notes = wait_until(lambda: [t for t in widget.received(0.5) if names(t, "en") == {"utter_rate_limited"}], 20)
        assert notes
    finally:
        widget.close()


# -- 6. the agent console ---------------------------------------------------------------------------


def _add_agent(bot: Any, name: str, password: str) -> None:
    Accounts(store_of(bot)).add(name, password)


def test_login_is_throttled_per_account_and_per_client(guarded):
    _add_agent(guarded, "grace", "Compiler-Pioneer-1906")
    for _ in range(LOGIN_PER_ACCOUNT):  # from different addresses: the account counts them all
        with pytest.raises(LoginRefused) as refused:
            console(guarded).login("grace", "guess-Guess-1")
        assert refused.value.status == 401
    with pytest.raises(LoginRefused) as refused:
        console(guarded).login("grace", "Compiler-Pioneer-1906")  # even the right password, for a while
    assert refused.value.status == 429 and "Too many failed logins" in refused.value.page
    assert console(guarded).login(AGENT, PASSWORD)  # another account is not locked
    ip = address()
    for n in range(LOGIN_PER_CLIENT):  # one address guessing many accounts
        with pytest.raises(LoginRefused):
            console(guarded, ip).login(f"nobody{n}", "guess-Guess-1")
    with pytest.raises(LoginRefused) as refused:
        console(guarded, ip).login(AGENT, PASSWORD)
    assert refused.value.status == 429


def test_logout_revokes_the_session(guarded):
    agent = console(guarded)
    csrf = agent.login()
    cookie = agent.cookie("agent_session")
    assert agent.post_json("/agent/logout", {}, csrf=csrf)[0] == 200
    stolen = console(guarded)  # the cookie, kept by someone after logout
    assert stolen.request("GET", "/agent/api/me", headers={"Cookie": f"agent_session={cookie}"})[0] == 401


def test_password_change_revokes_the_other_sessions(guarded, monkeypatch):
    from scripts import agents

    _add_agent(guarded, "heidi", "Film-Inventor-1914")
    here, there = console(guarded), console(guarded)
    csrf = here.login("heidi", "Film-Inventor-1914")
    there.login("heidi", "Film-Inventor-1914")
    change = {"current": "Film-Inventor-1914", "new": "Frequency-Hopping-42"}
    assert here.post_json("/agent/api/password", dict(change, new="weak"), csrf=csrf)[0] == 400
    assert here.post_json("/agent/api/password", dict(change, current="wrong-Guess-1"), csrf=csrf)[0] == 403
    assert here.post_json("/agent/api/password", change, csrf=csrf)[0] == 200
    assert there.request("GET", "/agent/api/me")[0] == 401  # the other session is over
    assert here.request("GET", "/agent/api/me")[0] == 200  # the one that changed it goes on
    with pytest.raises(LoginRefused):
        console(guarded).login("heidi", "Film-Inventor-1914")
    # From the command line: every session ends, and a disabled agent cannot log in.
    monkeypatch.setenv("DATABASE_URL", guarded.extra_env["DATABASE_URL"])
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Another-Strong-Pass-7\n"))
    assert agents.main(["passwd", "heidi", "--password-stdin"]) == 0
    assert here.request("GET", "/agent/api/me")[0] == 401
    fresh = console(guarded)
    fresh.login("heidi", "Another-Strong-Pass-7")
    assert agents.main(["disable", "heidi"]) == 0
    assert fresh.request("GET", "/agent/api/me")[0] == 401
    with pytest.raises(LoginRefused):
        console(guarded).login("heidi", "Another-Strong-Pass-7")


def test_non_ascii_csrf_is_a_400(guarded):
    agent = console(guarded)
    assert agent.request("GET", "/agent/login")[0] == 200  # the login cookie
    form = urllib.parse.urlencode({"csrf": "é令牌", "username": AGENT, "password": PASSWORD}).encode()
    status, _, raw = agent.request("POST", "/agent/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "error" in json.loads(raw)
    agent.login()
    status, _, raw = agent.request(
        "POST", "/agent/api/tickets/1/claim", b"{}", {"Content-Type": "application/json", "X-CSRF-Token": "é" * 8}
    )
    assert status == 400 and "error" in json.loads(raw)


def test_console_queue_is_paged_and_transcripts_trimmed(guarded):
    store = store_of(guarded)
    long_line = "我" * 5000
    made = [
        store.open_ticket(
            kind="handoff",
            status="waiting",
            conversation_id=f"queue-{n}",
            channel="rest",
            transcript=[{"sender": "customer", "text": long_line, "at": 0}],
        )
        for n in range(25)
    ]
    agent = console(guarded)
    agent.login()
    first = json.loads(agent.request("GET", "/agent/api/tickets")[2])
    assert len(first["tickets"]) == 20 and first["pages"] >= 2 and first["total"] >= 25
    seen = {t["id"] for t in first["tickets"]}
    for page in range(2, first["pages"] + 1):
        seen |= {t["id"] for t in json.loads(agent.request("GET", f"/agent/api/tickets?page={page}")[2])["tickets"]}
    assert set(made) <= seen
    line = next(t for t in first["tickets"] if t["id"] in made)["transcript"][-1]
    assert line["trimmed"] and len(line["text"]) <= 2001 and line["text"].startswith("我" * 100)


# -- 7. WeChat ----------------------------------------------------------------------------------------


def test_replayed_wechat_request_is_refused(guarded):
    wechat = pusher(guarded, "plain")
    who = openid()
    query, body = wechat.signed(wechat.message_xml(who, "text", {"Content": "你好"}))
    assert wechat.post_once(query, body)[0] == 200
    assert wechat.post_once(query, body)[0] == 403  # the same request again
    other = wechat.message_xml(openid(), "text", {"Content": "转人工"})  # another body, the captured signature
    assert wechat.post_once(query, other)[0] == 403
    assert wechat.text(who, "谢谢").status == 200  # freshly signed requests go on


# -- 8. the action server ----------------------------------------------------------------------------


def test_action_call_without_the_shared_secret_is_refused(guarded):
    import urllib.error
    import urllib.request

    call = {"next_action": "action_handoff", "sender_id": "x", "tracker": {"sender_id": "x", "slots": {}}}

    def post(headers: Dict[str, str]) -> int:
        request = urllib.request.Request(
            f"{guarded.actions_url}/webhook", json.dumps(call).encode(), {"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post({}) == 401
    assert post({"Authorization": "Bearer wrong"}) == 403
    assert not store_of(guarded).tickets(kind="handoff", conversation_id="x")
    with urllib.request.urlopen(f"{guarded.actions_url}/health", timeout=10) as answer:
        assert answer.status == 200
    request = urllib.request.Request(
        f"{guarded.actions_url}/actions", headers={"Authorization": f"Bearer {guarded.action_token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


# -- 7. no secret in any log line (last: after every other test's requests) ---------------------------


def test_no_secret_in_logs_after_a_failing_wechat_token_call(guarded):
    wechat = pusher(guarded, "plain")
    assert wechat.text(openid(), "你好").status == 200  # answered through the API: the token call fails

    def logs() -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(guarded.log_dir.glob("*.log")))

    wait_until(lambda: "not delivered" in logs(), 20, message="the failed WeChat send was not logged")
    written = logs()
    for secret in (APP_SECRET, TOKEN, AES_KEY, guarded.api_token, guarded.action_token, PASSWORD, SECRET):
        assert secret not in written, f"a secret is in the logs: {secret[:4]}…"
    assert "secret=" not in written.replace("secret=[redacted]", "")
