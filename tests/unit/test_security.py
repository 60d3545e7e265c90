"""Security (issue 12) without a model or a bot: the public surface on an in-process Sanic
app over real HTTP, the intent guard, log cleaning, WeChat replays and signatures, rate
limits, agent accounts and sessions, signed website sessions, the configuration.

The same attacks against real servers: tests/e2e/test_security.py.
"""

from __future__ import annotations

import json
import logging
import subprocess
import uuid
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from sanic import Sanic, response

from bot import customer_text, redact, security, settings
from tests.support.local_app import request, serving

EVIL = "https://evil.example"
SHOP = "https://shop.example"


@pytest.fixture
def app() -> Sanic:
    return Sanic(f"test_{uuid.uuid4().hex[:8]}")


# -- the public surface (the patch of rasa.server.configure_cors) -------------------------


def _surface_app(app: Sanic) -> Sanic:
    security.configure_public_surface(app, [SHOP])

    @app.get("/agent/api/me")
    async def me(_: Any) -> Any:
        return response.json({"agent": "x"})

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Any) -> Any:
        return response.json({"bytes": len(request.body)})

    @app.put("/model")
    async def model(request: Any) -> Any:  # Rasa's API: not a public path
        return response.json({"bytes": len(request.body)})

    return app


def test_cors_is_granted_only_to_the_configured_origins_and_never_on_agent(app):
    with serving(_surface_app(app)) as base:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        for origin in (SHOP, EVIL):
            for method, headers in (("GET", {}), ("OPTIONS", preflight)):
                _, got, _ = request(base, method, "/agent/api/me", headers={"Origin": origin, **headers})
                assert not [h for h in got if h.lower().startswith("access-control-")], (origin, method, got)
        _, got, _ = request(base, "POST", "/webhooks/rest/webhook", b"{}", {"Origin": EVIL})
        assert "Access-Control-Allow-Origin" not in got
        _, got, _ = request(base, "OPTIONS", "/webhooks/rest/webhook", headers={"Origin": EVIL, **preflight})
        assert "Access-Control-Allow-Origin" not in got
        _, got, _ = request(base, "POST", "/webhooks/rest/webhook", b"{}", {"Origin": SHOP})
        assert got["Access-Control-Allow-Origin"] == SHOP and "Access-Control-Allow-Credentials" not in got
        _, got, _ = request(base, "OPTIONS", "/webhooks/rest/webhook", headers={"Origin": SHOP, **preflight})
        assert got["Access-Control-Allow-Origin"] == SHOP


def test_public_bodies_are_capped_before_reading_with_a_json_reason(app):
    big = b"x" * (security.MAX_PUBLIC_BODY + 1)
    with serving(_surface_app(app)) as base:
        status, _, raw = request(base, "POST", "/webhooks/rest/webhook", big, {"Content-Type": "application/json"})
        assert status == 413 and "larger than" in json.loads(raw)["error"]
        status, _, raw = request(base, "POST", "/webhooks/rest/webhook", b"x" * 1000)
        assert status == 200 and json.loads(raw) == {"bytes": 1000}
        status, _, raw = request(base, "PUT", "/model", big)  # the API (behind its token) takes models
        assert status == 200


def test_public_prefixes_expose_no_api_function():
    """Every route under a path a reverse proxy may forward belongs to a channel, and
    every route of Rasa's API lies outside them."""
    import rasa.core.run

    from bot import patches

    channel_blueprints = {
        "custom_webhook_RestInput",
        "wechat_webhook",
        "socketio_webhook",
        "shop_pages",
        "agent_console",
    }
    Sanic.test_mode, before = True, Sanic.test_mode
    patches.apply()
    try:
        channels = rasa.core.run.create_http_input_channels(None, str(settings.ROOT / "credentials.yml"))
        app = rasa.core.run.configure_app(channels, cors=[SHOP], auth_token="t", enable_api=True)
    finally:
        patches.undo()
        Sanic.test_mode = before
    public, api = [], []
    for route in app.router.routes:
        path = "/" + route.path
        owner = route.name.split(".")[1] if route.name.count(".") >= 2 else route.name.split(".")[-1]
        if security.is_public(path) or path.startswith("/socket.io"):
            public.append(path)
            assert owner in channel_blueprints or (path == "/socket.io" and owner == "handle_request"), route.name
        else:
            api.append(path)
    assert "/conversations/<conversation_id:path>/tracker" in api and "/model" in api and "/status" in api
    assert "/webhooks/rest/webhook" in public and "/agent/api/tickets" in public


# -- customer text stays text ------------------------------------------------------------


def _tracker(*events: Any) -> Any:
    return SimpleNamespace(events=list(events))


def _message(text: str, channel: Any = "rest", metadata: Any = None) -> Any:
    return SimpleNamespace(text=text, input_channel=channel, metadata=metadata)


def test_only_offered_buttons_and_server_made_messages_speak_as_intents():
    from rasa.shared.core.events import BotUttered

    rating = '/inform{"rating": 5}'
    offered = _tracker(BotUttered("打个分吧", data={"buttons": [{"title": "⭐⭐⭐⭐⭐", "payload": rating}]}))
    speaks = customer_text.speaks_as_intent
    assert speaks(_message("你好"), _tracker())  # words are words
    assert not speaks(_message("/restart"), _tracker())
    assert not speaks(_message('/inform{"order_id":"SO20261101"}'), offered)
    assert not speaks(_message(" /restart "), _tracker())  # Rasa strips the text before reading it
    assert speaks(_message(rating), offered) and speaks(_message(f" {rating}\n", "socketio"), offered)
    assert not speaks(_message(rating), _tracker())  # not offered in this conversation
    assert not speaks(_message(rating, "wechat"), None)
    # The widget opens with /greet; only on the website.
    assert speaks(_message("/greet", "socketio"), _tracker())
    assert not speaks(_message("/greet", "rest"), _tracker())
    assert not speaks(_message('/greet{"language": "en"}', "socketio"), _tracker())
    # Server-made messages carry a signature no client can forge or move to another text.
    greet = '/greet{"language": "zh"}'
    assert speaks(_message(greet, "wechat", customer_text.server_made(greet)), _tracker())
    assert not speaks(_message("/restart", "wechat", customer_text.server_made(greet)), _tracker())
    assert not speaks(_message(greet, "wechat", {customer_text.SIGNATURE_KEY: "0" * 64}), _tracker())
    assert not speaks(_message(greet, "wechat", {customer_text.SIGNATURE_KEY: "é"}), _tracker())
    # Inside the server (Rasa's API behind its token, rasa test) and the developer's shell.
    assert speaks(_message("/restart", None), None) and speaks(_message("/restart", "cmdline"), None)


def test_parse_as_text_stops_the_graph_before_the_regex_handler():
    from rasa.engine.graph import GraphSchema, SchemaNode
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.training_data.message import Message

    class Runner:
        def __init__(self) -> None:
            self.targets: List[List[str]] = []

        def run(self, inputs: Dict[str, Any], targets: List[str]) -> Dict[str, Any]:
            self.targets.append(targets)
            text = inputs["__message__"][0].text
            data = {"text": text, "intent": {"name": targets[0], "confidence": 1.0}}
            return {targets[0]: [Message(data, output_properties={"text", "intent"})]}

    def node(uses: Any, **needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=uses, constructor_name="create", fn="process", config={})

    schema = GraphSchema(
        {
            "run_FallbackClassifier6": node(RegexMessageHandler),  # stands for the NLU's last component
            "run_RegexMessageHandler": node(RegexMessageHandler, messages="run_FallbackClassifier6"),
        }
    )
    calls: List[str] = []

    def original(self: Any, message: Any, tracker: Any, only_output_properties: bool = True) -> Dict[str, Any]:
        calls.append(message.text)
        return {"text": message.text, "intent": {"name": "from rasa"}}

    processor = SimpleNamespace(
        graph_runner=Runner(),
        model_metadata=SimpleNamespace(predict_schema=schema, nlu_target="run_RegexMessageHandler"),
    )
    parse = customer_text.parse_as_text(original)
    assert parse(processor, _message("你好"), _tracker())["intent"]["name"] == "from rasa"
    assert parse(processor, _message("/restart", None), _tracker())["intent"]["name"] == "from rasa"
    parsed = parse(processor, _message("/restart"), _tracker())
    assert parsed["intent"]["name"] == "run_FallbackClassifier6" and parsed["text"] == "/restart"
    assert processor.graph_runner.targets == [["run_FallbackClassifier6"]] and calls == ["你好", "/restart"]


# -- secrets never in logs -----------------------------------------------------------------


def test_log_records_are_cleaned_of_secrets(caplog):
    secret, token = "AppSecret-0123456789abcdef", "api-token-fedcba9876543210"
    redact.install([secret, token])
    try:
        log = logging.getLogger("test.redact")
        with caplog.at_level(logging.INFO):
            log.info("token request failed: %s", f"http://api/cgi-bin/token?appid=wx1&secret={secret}&grant=x")
            log.info("called /conversations/x/tracker?token=%s", token)
            log.info("send?access_token=ACCESS123456 failed")
            try:
                raise RuntimeError(f"Max retries exceeded with url: /token?secret={secret}")
            except RuntimeError:
                log.exception("no answer")
            log.info("password=hunter2hunter2 and %s in text", secret)
        handler = logging.StreamHandler()
        written = "\n".join(handler.format(record) for record in caplog.records)
    finally:
        redact.uninstall()
    assert secret not in written and token not in written and "ACCESS123456" not in written
    assert "hunter2hunter2" not in written and written.count(redact.MASK) >= 6
    assert "token request failed" in written and "RuntimeError" in written


def test_a_failing_wechat_token_request_does_not_quote_the_appsecret():
    from bot.channels.wechat_api import CustomerServiceAPI, WeChatAPIError
    from scripts.servers import free_ports

    secret = "the-app-secret-0123456789"
    api = CustomerServiceAPI("wx0123", secret, f"http://127.0.0.1:{free_ports(1)[0]}")  # nobody listens
    with pytest.raises(WeChatAPIError) as failed:
        api.send_text("openid", "hello")
    assert secret not in str(failed.value) and "secret=" not in str(failed.value)


# -- WeChat: constant-time signatures, replays --------------------------------------------


def test_signatures_are_wechats_sha1_compared_in_constant_time():
    from wechatpy.utils import WeChatSigner

    from bot.channels.wechat import signature_matches

    signer = WeChatSigner()
    signer.add_data("token", "1700000000", "nonce1")
    assert signature_matches(signer.signature, "token", "1700000000", "nonce1")
    assert not signature_matches(signer.signature, "token", "1700000001", "nonce1")
    assert not signature_matches("é" * 40, "token", "1700000000", "nonce1")
    assert not signature_matches(None, "token", "1700000000", "nonce1")


def test_a_timestamp_and_nonce_are_accepted_once_but_a_retry_that_got_no_answer_joins():
    from bot.channels.wechat import Nonces

    nonces = Nonces(keep_seconds=300)
    pair = ("1700000000", "abc")
    assert nonces.admit(pair, "msg:1")
    assert not nonces.admit(pair, "msg:2")  # another body under a captured signature
    assert nonces.admit(pair, "msg:1")  # WeChat's retry of a message still being answered
    nonces.answered(pair)
    assert not nonces.admit(pair, "msg:1")  # a replay of an answered request
    assert nonces.admit(("1700000000", "abd"), "msg:1")


# -- limits --------------------------------------------------------------------------------


def test_rate_limiter_allows_a_burst_then_refills():
    limiter = security.RateLimiter(per_minute=6)
    assert [limiter.hit("a", now=100.0) for _ in range(6)] == [0.0] * 6
    assert limiter.hit("a", now=100.0) == pytest.approx(10.0)  # one token every 10 s
    assert limiter.hit("b", now=100.0) == 0.0  # another key has its own bucket
    assert limiter.hit("a", now=111.0) == 0.0
    assert security.RateLimiter(per_minute=0).hit("a") == 0.0  # 0 = no limit
    small = security.RateLimiter(per_minute=1, max_keys=2)
    for key in "abc":
        small.hit(key, now=0.0)
    assert len(small.buckets) == 2


def test_rest_metadata_holds_only_known_keys_within_limits():
    from sanic.exceptions import InvalidUsage

    from bot.channels.rest import checked_metadata

    assert checked_metadata({"language": "en"}) == {"language": "en"}
    assert checked_metadata(None) is None and checked_metadata({}) is None
    for bad in (
        {"is_external": True},
        {"language": "x" * 17},
        {"language": 5},
        {"language": "en", "x": "y" * 2000},
        [],
    ):
        with pytest.raises(InvalidUsage):
            checked_metadata(bad)


def test_rest_senders_can_be_restricted_to_integrators_with_a_token(app, monkeypatch):
    from bot.channels.rest import RestInput

    monkeypatch.setenv("REST_TOKEN", "integrator-token-1")
    received: List[Any] = []

    async def on_new_message(message: Any) -> None:
        received.append(message)

    app.blueprint(RestInput().blueprint(on_new_message), url_prefix="/webhooks/rest")
    body = json.dumps({"sender": "u1", "message": "hi", "input_channel": "wechat"}).encode()
    json_type = {"Content-Type": "application/json"}
    with serving(app) as base:
        assert request(base, "POST", "/webhooks/rest/webhook", body, json_type)[0] == 401
        wrong = {**json_type, "Authorization": "Bearer nope"}
        assert request(base, "POST", "/webhooks/rest/webhook", body, wrong)[0] == 401
        right = {**json_type, "Authorization": "Bearer integrator-token-1"}
        assert request(base, "POST", "/webhooks/rest/webhook", body, right)[0] == 200
    assert [(m.sender_id, m.text, m.input_channel) for m in received] == [("u1", "hi", "rest")]


def test_the_widgets_metadata_keeps_only_the_page_language():
    from bot.channels.website import page_metadata

    assert page_metadata({"customData": {"language": "en-US", "is_external": True}}, "metadata") == {"language": "en"}
    assert page_metadata({"customData": json.dumps({"language": "zh"})}, "metadata") == {"language": "zh"}
    assert page_metadata({"customData": {"language": "fr"}}, "metadata") == {}


# -- website sessions ------------------------------------------------------------------------


def test_website_session_ids_are_issued_and_signed_by_the_server(monkeypatch):
    from bot.channels import website

    monkeypatch.setenv("WEBSITE_SECRET", "unit-secret")
    session = website.new_session()
    conversation, signature = session.split(".")
    assert website.conversation_of(session) == conversation and len(conversation) == 32
    assert website.conversation_of(conversation) is None  # the bare conversation id
    assert website.conversation_of(f"{conversation}.{'0' * 32}") is None  # a forged signature
    assert website.conversation_of(f"{uuid.uuid4().hex}.{signature}") is None  # moved to another conversation
    assert website.conversation_of(f"{conversation}.é") is None and website.conversation_of(None) is None
    monkeypatch.setenv("WEBSITE_SECRET", "another-secret")
    assert website.conversation_of(session) is None  # signed with another server's key


# -- agent accounts and sessions ---------------------------------------------------------------


@pytest.fixture
def accounts(tmp_path):
    from bot.accounts import Accounts
    from bot.shop.store import Store

    return Accounts(Store(f"sqlite:///{tmp_path / 'shop.db'}"))


def test_passwords_are_hashed_slowly_and_must_be_strong(accounts):
    from bot.accounts import AccountError, password_problem, verify_password

    for weak in ("short1!", "aaaaaaaaaaaaaaaa", "password123", "alllowercaseletters", "dana-rocks-2026!x"):
        assert password_problem(weak, "dana"), weak
    assert password_problem("correct-Horse-7", "dana") is None
    with pytest.raises(AccountError):
        accounts.add("dana", "short")
    accounts.add("dana", "correct-Horse-7")
    with pytest.raises(AccountError):
        accounts.add("dana", "correct-Horse-8")
    stored = accounts.list()
    assert [a["username"] for a in stored] == ["dana"]
    from bot.accounts import AgentAccount

    with accounts.store.session() as session:
        hashed = session.query(AgentAccount).one().password_hash
    assert hashed.startswith("scrypt$16384$8$1$") and "correct-Horse-7" not in hashed
    assert verify_password("correct-Horse-7", hashed) and not verify_password("correct-Horse-8", hashed)
    assert accounts.check("dana", "correct-Horse-7") and not accounts.check("dana", "wrong-Horse-7")
    assert not accounts.check("nobody", "correct-Horse-7")


def test_sessions_live_in_the_store_and_end_on_logout_password_change_disable_and_idle(accounts, monkeypatch):
    import datetime as dt

    from bot.accounts import AgentSession

    accounts.add("erin", "Secret-pass-no1")
    first, second, third = (accounts.open_session("erin") for _ in range(3))
    assert accounts.session(first).username == "erin"
    with accounts.store.session() as session:
        assert session.get(AgentSession, first) is None  # only the hash is stored
    accounts.close_session(first)
    assert accounts.session(first) is None
    keep = accounts.session(second).key
    accounts.set_password("erin", "Secret-pass-no2", keep_session=keep)
    assert accounts.session(second) is not None and accounts.session(third) is None
    assert accounts.check("erin", "Secret-pass-no2") and not accounts.check("erin", "Secret-pass-no1")
    accounts.set_enabled("erin", False)
    assert accounts.session(second) is None and not accounts.check("erin", "Secret-pass-no2")
    accounts.set_enabled("erin", True)
    idle = accounts.open_session("erin")
    with accounts.store.session() as session:
        row = session.get(AgentSession, accounts.session(idle).key)
        row.last_seen -= dt.timedelta(minutes=float(settings.get("AGENT_IDLE_MINUTES")) + 1)
    assert accounts.session(idle) is None
    assert accounts.session("x" * 500) is None and accounts.session(None) is None


def test_the_default_account_comes_from_agent_password_only_while_there_is_none(accounts):
    assert accounts.bootstrap("agent", "") is None and accounts.count() == 0
    assert "too weak" in accounts.bootstrap("agent", "1234")
    assert accounts.bootstrap("agent", "first-Password-1") is None and accounts.check("agent", "first-Password-1")
    assert accounts.bootstrap("agent", "second-Password-2") is None  # the database is the truth now
    assert not accounts.check("agent", "second-Password-2")


def test_login_throttle_counts_attempts_before_the_check_and_locks(monkeypatch):
    from bot.channels.console import LoginThrottle

    throttle = LoginThrottle()
    limits = {"account:a": 3, "client:1.2.3.4": 10}
    assert [throttle.begin(limits) for _ in range(3)] == [0.0, 0.0, 0.0]  # three in flight at once
    assert throttle.begin(limits) > 0  # the fourth waits, whatever the password
    other = {"account:b": 3, "client:1.2.3.4": 10}
    assert throttle.begin(other) == 0.0
    throttle.succeeded(list(other))  # a right password is taken back from the count
    assert len(throttle.attempts["account:b"]) == 0


def test_csrf_tokens_that_are_not_ascii_are_malformed_not_errors():
    from bot.channels.console import MalformedToken, tokens_match

    assert tokens_match("abc", "abc") and not tokens_match("abd", "abc")
    for bad in ("é", "x" * 300, None, 5):
        with pytest.raises(MalformedToken):
            tokens_match(bad, "abc")


def test_console_cookies_are_secure_behind_https(monkeypatch):
    from bot.channels.console import COOKIE, _cookie

    for url, secure in (("https://shop.example", True), ("http://127.0.0.1:5005", False), ("", False)):
        monkeypatch.setenv("PUBLIC_URL", url)
        result = response.json({})
        _cookie(result, COOKIE, "value")
        assert bool(result.cookies[COOKIE].get("secure")) is secure, url
        assert result.cookies[COOKIE]["httponly"] and result.cookies[COOKIE]["samesite"] == "Strict"


def test_agents_command_line_adds_changes_and_disables(tmp_path, monkeypatch):
    from bot.accounts import Accounts
    from bot.shop.store import store_for
    from scripts import agents

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Blue-Harbor-41\nGreen-Harbor-42\n"))
    assert agents.main(["add", "frank", "--password-stdin"]) == 0
    store = Accounts(store_for(url))
    session = store.open_session("frank")
    assert agents.main(["passwd", "frank", "--password-stdin"]) == 0
    assert store.session(session) is None and store.check("frank", "Green-Harbor-42")
    assert agents.main(["disable", "frank"]) == 0 and not store.check("frank", "Green-Harbor-42")
    assert agents.main(["add", "frank", "--generate"]) == 1  # exists already
    assert agents.main(["enable", "frank"]) == 0 and agents.main(["list"]) == 0


# -- configuration ---------------------------------------------------------------------------


def test_first_run_writes_every_secret_once(tmp_path, monkeypatch, capsys):
    from scripts import agent_credentials

    env_file = tmp_path / ".env"
    monkeypatch.setattr(agent_credentials, "ENV_FILE", env_file)
    for key in agent_credentials.GENERATED:
        monkeypatch.delenv(key, raising=False)
    agent_credentials.ensure()
    lines = env_file.read_text().splitlines()
    written = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    assert set(agent_credentials.GENERATED) <= set(written) and all(len(written[k]) >= 16 for k in written)
    assert written["AGENT_PASSWORD"] in capsys.readouterr().out
    assert oct(env_file.stat().st_mode)[-3:] == "600"
    agent_credentials.ensure()  # nothing more the second time
    assert env_file.read_text().count("RASA_API_TOKEN=") == 1


def test_the_server_never_serves_rasas_api_without_a_token(monkeypatch):
    from bot.server import OpenApiRefused, with_api_token

    monkeypatch.setenv("RASA_API_TOKEN", "-tok-123456")  # token_urlsafe may start with "-"
    argv = with_api_token(["rasa", "run", "--enable-api"])
    assert argv == ["rasa", "run", "--enable-api", "--auth-token=-tok-123456"]
    import argparse

    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    assert parser.parse_args(argv[2:]).auth_token == "-tok-123456"  # one argument for Rasa's parser
    assert with_api_token(["rasa", "test", "nlu"]) == ["rasa", "test", "nlu"]
    monkeypatch.delenv("RASA_API_TOKEN")
    with pytest.raises(OpenApiRefused):
        with_api_token(["rasa", "run", "--enable-api"])
    assert with_api_token(["rasa", "run"]) == ["rasa", "run"]  # no API, nothing to protect


def test_endpoints_variables_are_unquoted_and_always_set():
    """The stray `${TRACKER_DB}` SQLite file came from a quoted "${TRACKER_DB}" in
    endpoints.yml, which Rasa's YAML reader leaves unexpanded; and an unset variable would
    stop Rasa (or, quoted, name a file). Every variable is plain and set by child_env()."""
    import re

    lines = (settings.ROOT / "endpoints.yml").read_text(encoding="utf-8").splitlines()
    raw = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert not re.search(r"""["']\$\{""", raw) and not re.search(r"""\$\{\w+\}\s*["']""", raw)
    # What made the file: Rasa expands ${VARS} only in plain scalars, a quoted one stays literal.
    from rasa.shared.utils.io import read_yaml

    assert read_yaml('db: "${TRACKER_DB}"')["db"] == "${TRACKER_DB}"
    used = set(re.findall(r"\$\{(\w+)\}", raw))
    assert {"ACTION_ENDPOINT_URL", "TRACKER_DB", "ACTION_SERVER_TOKEN"} <= used
    from scripts.servers import Bot

    bot = Bot(
        model=settings.ROOT / "m.tar.gz",
        rasa_port=1,
        actions_port=2,
        tracker_db=settings.ROOT / "t.db",
        log_dir=settings.ROOT,
    )
    env = bot.env()
    assert all(env.get(name) for name in used), [name for name in used if not env.get(name)]


def test_database_files_in_the_repository_root_are_ignored():
    for name in ("tracker.db", "${TRACKER_DB}", "shop.db-wal", "var/tracker.db"):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=settings.ROOT).returncode == 0
        assert ignored, name


def test_action_server_needs_the_shared_secret(app):
    from bot.action_server import require_token
    from bot.health import answer_with_token

    @app.post("/webhook")
    async def webhook(_: Any) -> Any:
        return response.json({"ran": True})

    answer_with_token(app)
    require_token(app, "shared-secret-1")
    with serving(app) as base:
        assert request(base, "POST", "/webhook", b"{}")[0] == 401
        assert request(base, "POST", "/webhook", b"{}", {"Authorization": "Bearer wrong"})[0] == 403
        assert request(base, "POST", "/webhook", b"{}", {"Authorization": "Bearer shared-secret-1"})[0] == 200
        assert request(base, "GET", "/health")[0] == 200


def test_language_of_a_refused_message():
    assert security.language_of("你好") == "zh" and security.language_of("hello there") == "en"
    assert security.language_of("😀", "en") == "en" and security.language_of("😀") == "zh"
    assert security.language_of(None, "fr") == "zh"
