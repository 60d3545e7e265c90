"""The Rasa server's public surface (issue 12): what a reverse proxy may forward, CORS,
request-size caps, client addresses and rate limits, shared by the channels.

Public paths (forward these, and only these, from the internet; README "Deploying
safely"): `/webhooks/` (REST, WeChat), `/socket.io` (website chat), `/shop/` (demo page),
`/agent/` (agent console). Everything else on the port is Rasa's HTTP API (token
required, `RASA_API_TOKEN`) and /health, for the machine itself.

`configure_public_surface` replaces Rasa's `rasa.server.configure_cors` (listed in
bot/patches.py), so it runs on the app Rasa builds:
- CORS only for CORS_ORIGINS (default: PUBLIC_URL's origin), never with credentials and
  never on /agent/ (the console is same-origin only); /socket.io answers CORS itself
  (engineio, bot/channels/website.py) with the same origins;
- request bodies on the public paths capped at MAX_PUBLIC_BODY before they are read, and
  every 413 answered with a JSON reason;
- behind PROXIES_COUNT reverse proxies, the client address (rate limits, login
  throttling) comes from X-Forwarded-For; with 0, from the connection.
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import urlsplit

from bot import settings

PUBLIC_PREFIXES = ("/webhooks/", "/socket.io", "/shop/", "/agent/")
# A REST message may hold 100,000 characters; JSON-escaped (\\uXXXX) that is 600 kB.
MAX_PUBLIC_BODY = 1024 * 1024
LANGUAGES = ("zh", "en")


# -- settings -----------------------------------------------------------------------


def public_url() -> str:
    return (settings.get("PUBLIC_URL") or f"http://127.0.0.1:{settings.get('RASA_PORT')}").rstrip("/")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cors_origins() -> List[str]:
    """The origins allowed to call the public routes from a browser page."""
    configured = [o.strip().rstrip("/") for o in re.split(r"[\s,]+", settings.get("CORS_ORIGINS")) if o.strip()]
    return configured or [origin_of(public_url())]


def secure_cookies() -> bool:
    return public_url().lower().startswith("https://")


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES) or path in ("/agent", "/shop")


# -- who is asking ------------------------------------------------------------------


def client_address(request: Any) -> str:
    """The client's address: the peer, or X-Forwarded-For behind PROXIES_COUNT proxies
    (Sanic's remote_addr reads the forwarded headers only when PROXIES_COUNT is set)."""
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")


class RateLimiter:
    """Token buckets per key: `per_minute` messages a minute, bursts up to that many.
    0 = unlimited. Keeps at most `max_keys` keys (the least recently seen are forgotten)."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()

    def hit(self, key: str, now: Optional[float] = None) -> float:
        """Take one token for `key`: 0.0 if allowed, else the seconds until one is free."""
        if self.capacity <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, then = self.buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return wait


class MessageLimits:
    """Per-client and per-conversation message limits of one channel."""

    def __init__(self) -> None:
        self.clients = RateLimiter(int(settings.get("RATE_LIMIT_PER_CLIENT") or 0))
        self.conversations = RateLimiter(int(settings.get("RATE_LIMIT_PER_CONVERSATION") or 0))

    def wait(self, client: str, conversation: Optional[str]) -> float:
        """0.0 when the message may go on, else the seconds to wait."""
        waits = [self.clients.hit(client)]
        if conversation:
            waits.append(self.conversations.hit(conversation))
        return max(waits)


# -- polite words from the domain -----------------------------------------------------


def language_of(text: Any, fallback: Optional[str] = None) -> str:
    """The language to answer a refused message in: Chinese when it has Chinese (as the
    NLU reads it), else the page's or conversation's language, else its own, else Chinese."""
    from bot.nlu.language import detect

    found = detect(text if isinstance(text, str) else "")
    if found != "zh" and fallback in LANGUAGES:
        return str(fallback)
    return found or "zh"


def response_text(app: Any, name: str, language: str) -> str:
    """The domain response `name` in `language` (the bot's own words, bot/domain.yml)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    domain = getattr(agent, "domain", None)
    variants = (getattr(domain, "responses", None) or {}).get(name) or []
    english = [v for v in variants if any(c.get("value") == "en" for c in v.get("condition") or [])]
    chinese = [v for v in variants if not v.get("condition")]
    chosen = (english if language == "en" else chinese) or chinese or variants
    return str(chosen[0].get("text", "")) if chosen else ""


# -- the patch: CORS and body caps on the app Rasa builds -------------------------------


def _cors(app: Any, origins: List[str]) -> None:
    from sanic_cors import CORS

    app.config.CORS_AUTOMATIC_OPTIONS = True
    app.config.CORS_SUPPORTS_CREDENTIALS = False
    app.config.CORS_ALWAYS_SEND = False
    # Every path but the console (same-origin only) and socket.io (engineio answers CORS).
    CORS(
        app,
        resources={r"^/(?!agent(/|$)|socket\.io(/|$)).*": {"origins": origins}},
        automatic_options=True,
        supports_credentials=False,
        always_send=False,
    )


def _cap_public_bodies(app: Any) -> None:
    from sanic.exceptions import PayloadTooLarge
    from sanic.response import json as json_response

    @app.signal("http.routing.after")
    async def cap(request: Any, route: Any, kwargs: Any, handler: Any) -> None:
        # Routed, before the body is read: a larger Content-Length is refused at once, a
        # chunked body as soon as it passes the cap. Streaming routes (WeChat) lift this
        # right after and cap their own bodies.
        if is_public(request.path) and request.stream is not None:
            request.stream.request_max_size = min(request.stream.request_max_size, MAX_PUBLIC_BODY)

    @app.exception(PayloadTooLarge)
    async def too_large(request: Any, error: Exception) -> Any:
        limit = MAX_PUBLIC_BODY if is_public(getattr(request, "path", "")) else app.config.REQUEST_MAX_SIZE
        return json_response({"error": f"The request body is larger than {limit} bytes."}, status=413)


def configure_public_surface(app: Any, cors_origins: Union[str, List[str], None] = "") -> None:
    """rasa.server.configure_cors: CORS for the given origins on the public paths but
    /agent/ (and socket.io, done by engineio), no credentials; public request bodies
    capped; the client address from X-Forwarded-For behind PROXIES_COUNT proxies."""
    if isinstance(cors_origins, str):
        origins = [cors_origins] if cors_origins else []
    else:
        origins = [o for o in cors_origins or [] if o]
    _cors(app, origins)
    _cap_public_bodies(app)
    proxies = int(settings.get("PROXIES_COUNT") or 0)
    if proxies > 0:
        app.config.PROXIES_COUNT = proxies


def json_error(status: int, reason: str, **extra: Any) -> Any:
    from sanic.response import json as json_response

    headers: Dict[str, str] = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return json_response({"error": reason, **extra}, status=status, headers=headers, dumps=json.dumps)
