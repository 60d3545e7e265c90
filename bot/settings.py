"""Runtime settings: `.env` (python-dotenv) over embedded defaults.

Every key is documented in `.env.example`. Paths are relative to the project root so
that `make run` works from a fresh clone with no configuration at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: Dict[str, str] = {
    "RASA_HOST": "127.0.0.1",
    "RASA_PORT": "5005",
    "ACTIONS_HOST": "127.0.0.1",
    "ACTIONS_PORT": "5055",
    # SQLite files live under var/ so conversations survive a restart.
    "TRACKER_DB": "var/tracker.db",
    # Conversations the Rasa server keeps in memory besides the database (bot/tracker_store.py).
    "TRACKER_CACHE_SIZE": "500",
    "DATABASE_URL": "sqlite:///var/shop.db",
    "SHOP_DATA_DIR": "bot/shop/data",
    "MODEL_PATH": "models/current.tar.gz",
    # Empty means: take the agent's name from bot/shop/data/shop.yml.
    "AGENT_NAME_ZH": "",
    "AGENT_NAME_EN": "",
    "LOG_LEVEL": "INFO",
    # WeChat Official Account (bot.channels.wechat); no token = the channel answers 503.
    "WECHAT_TOKEN": "",
    "WECHAT_APP_ID": "",
    "WECHAT_APP_SECRET": "",
    "WECHAT_AES_KEY": "",
    "WECHAT_MODE": "safe",
    "WECHAT_API_BASE": "https://api.weixin.qq.com",
    "WECHAT_TIMESTAMP_WINDOW": "300",
    "WECHAT_PASSIVE_TIMEOUT": "4.0",
    # Orders: empty = the embedded store (seeded from bot/shop/data/orders.yml);
    # a URL = the shop's own order API (see bot/shop/orders.py for the contract).
    "ORDER_API_URL": "",
    "ORDER_API_TIMEOUT": "3",
    "ORDER_API_TOKEN": "",
    # Website chat: seconds of customer silence after the bot's last message before the
    # nudge, then before the polite close (bot.channels.website).
    "SILENCE_NUDGE_SECONDS": "120",
    "SILENCE_CLOSE_SECONDS": "120",
    # Agent console (/agent/). No default password: `make run` writes a random one to .env.
    "AGENT_USERNAME": "agent",
    "AGENT_PASSWORD": "",
    "AGENT_SECRET": "",
    # Privacy check (last 4 phone digits): this many wrong answers for one order, or from
    # one conversation, within VERIFY_LOCK_MINUTES lock it for that long.
    "VERIFY_MAX_FAILURES": "5",
    "VERIFY_MAX_FAILURES_PER_CONVERSATION": "10",
    "VERIFY_LOCK_MINUTES": "60",
    # Agents' hours, e.g. "09:00-22:00" in the shop's time zone; empty = shop.yml's service_hours.
    "SERVICE_HOURS": "",
    # Rough minutes per customer ahead in the hand-off queue (the wait the bot announces).
    "AVERAGE_HANDLING_MINUTES": "3",
    # --- security (issue 12; README "Deploying safely") ---
    # Where customers reach the bot, e.g. https://shop.example.com; empty = http://127.0.0.1:RASA_PORT.
    # https makes the console's cookies Secure.
    "PUBLIC_URL": "",
    # Origins (space- or comma-separated) whose pages may call the public routes from the
    # browser; empty = PUBLIC_URL's origin only. Never any on /agent/.
    "CORS_ORIGINS": "",
    # Rasa's HTTP API (--auth-token) and the secret Rasa sends to the action server; `make run`
    # writes random ones to .env on first run (a launcher without them makes one per start).
    "RASA_API_TOKEN": "",
    "ACTION_SERVER_TOKEN": "",
    # Signs the website's session ids (socket.io); `make run` writes a random one to .env.
    "WEBSITE_SECRET": "",
    # Optional: the REST webhook then needs "Authorization: Bearer <REST_TOKEN>" (integrators).
    "REST_TOKEN": "",
    # Reverse proxies in front of the Rasa server whose X-Forwarded-For is trusted for the
    # client address (rate limits, login throttling); 0 = clients connect directly.
    "PROXIES_COUNT": "0",
    # Customer messages per minute (REST and socket.io) per client address and per
    # conversation; 0 = no limit.
    "RATE_LIMIT_PER_CLIENT": "120",
    "RATE_LIMIT_PER_CONVERSATION": "30",
    # Agent console: failed logins per account and per address within LOGIN_LOCK_MINUTES
    # before logins are refused (429) for that long; idle and absolute session lifetimes.
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "5",
    "LOGIN_MAX_FAILURES_PER_CLIENT": "20",
    "LOGIN_LOCK_MINUTES": "15",
    "AGENT_IDLE_MINUTES": "30",
    "AGENT_SESSION_HOURS": "12",
    # -- faults (bot/resilience.py, scripts/servers.py) --
    # Seconds the Rasa server waits for the action server to answer one action call (Rasa's
    # own limit: 5 minutes). Past it, or when the action server refuses the connection, the
    # customer gets an apology and the way to a person, and that turn does not wait again.
    # Keep ORDER_API_TIMEOUT below it, so that the order API's own apology arrives in time.
    "ACTION_TIMEOUT": "3",
    # `make run` restarts a server that exits: after RESTART_MIN_DELAY seconds, doubling
    # while it keeps crashing up to RESTART_MAX_DELAY; a server that stayed up for
    # RESTART_STABLE_SECONDS starts again from the shortest delay.
    "RESTART_MIN_DELAY": "1",
    "RESTART_MAX_DELAY": "60",
    "RESTART_STABLE_SECONDS": "60",
    # Where `make run` writes the servers' logs and supervisor.log.
    "LOG_DIR": "var/log",
}

_loaded = False


def load() -> None:
    """Load `.env` once; real environment variables win over the file."""
    global _loaded
    if not _loaded:
        load_dotenv(ROOT / ".env", override=False)
        _loaded = True


def get(key: str) -> str:
    load()
    return os.environ.get(key) or DEFAULTS[key]


def path(key: str) -> Path:
    """A setting that names a file or folder, resolved against the project root."""
    value = Path(get(key))
    return value if value.is_absolute() else ROOT / value


def database_url() -> str:
    """DATABASE_URL with a relative sqlite path anchored at the project root."""
    url = get("DATABASE_URL")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str(ROOT / url[len(prefix) :])
    return url


def child_env() -> Dict[str, str]:
    """Environment for the Rasa and action-server processes (endpoints.yml reads it)."""
    load()
    env = dict(os.environ)
    for key in DEFAULTS:
        env[key] = get(key)
    env["TRACKER_DB"] = str(path("TRACKER_DB"))
    env["SANIC_HOST"] = get("ACTIONS_HOST")  # rasa_sdk binds here (default 0.0.0.0)
    env["ACTION_ENDPOINT_URL"] = f"http://{get('ACTIONS_HOST')}:{get('ACTIONS_PORT')}/webhook"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
