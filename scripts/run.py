"""`make run`: bring the whole bot up on embedded defaults and keep it up until Ctrl-C.

A server that exits (a crash, `kill -9`) is restarted by scripts/servers.py's Supervisor,
with growing delays while it keeps crashing and a line for each event on the terminal
and in supervisor.log beside the servers' logs (LOG_DIR, var/log/); the other server keeps
serving meanwhile. Ctrl-C stops both.
"""

from __future__ import annotations

import signal
import sys
import time

from bot import settings
from bot.shop.loader import ShopDataError, load_shop
from scripts.servers import Bot, Supervisor


def main() -> int:
    try:
        load_shop()  # refuse to start on broken shop data, with the file/item/field named
    except ShopDataError as error:
        print(f"error: the shop data is invalid: {error}", file=sys.stderr)
        return 2
    model = settings.path("MODEL_PATH")
    if not model.exists():
        print(f"error: no trained model at {model}; run `make train`", file=sys.stderr)
        return 2
    if settings.get("ORDER_API_URL") and float(settings.get("ORDER_API_TIMEOUT")) >= float(
        settings.get("ACTION_TIMEOUT")
    ):
        print(
            "warning: ORDER_API_TIMEOUT is not below ACTION_TIMEOUT: a slow order API gets the general apology "
            "(the action server's answer comes too late) instead of the order-specific one; see .env.example",
            file=sys.stderr,
        )
    bot = Bot(
        model=model,
        rasa_port=int(settings.get("RASA_PORT")),
        actions_port=int(settings.get("ACTIONS_PORT")),
        tracker_db=settings.path("TRACKER_DB"),
        log_dir=settings.path("LOG_DIR"),
    )
    logs = bot.log_dir
    print(f"Starting the action server and the Rasa server (logs in {logs}/) ...", flush=True)
    try:
        bot.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"error: {error}; see {logs}/rasa.log and {logs}/actions.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while the servers were starting
        bot.stop()
        print("\nStopped.")
        return 130
    host = settings.get("RASA_HOST")
    base = f"http://{host}:{bot.rasa_port}"
    wechat = "" if settings.get("WECHAT_TOKEN") else "  (503 until WECHAT_TOKEN is set, see README)"
    print(
        f"""
Ready in {bot.ready_seconds:.1f} s.
  REST webhook  : POST {base}/webhooks/rest/webhook
  socket.io     : {base}/socket.io
  demo shop page: {base}/shop/  ({base}/shop/?lang=en)
  agent console : {base}/agent/  (user {settings.get("AGENT_USERNAME")}, AGENT_PASSWORD in .env)
  WeChat        : {base}/webhooks/wechat/webhook{wechat}
  HTTP API      : {base}/status?token=...  (RASA_API_TOKEN in .env; never expose it, README "Deploying safely")
  Actions       : http://{settings.get("ACTIONS_HOST")}:{bot.actions_port}/health
Try:  curl -s -XPOST http://{host}:{bot.rasa_port}/webhooks/rest/webhook -d '{{"sender":"me","message":"你好"}}'
Press Ctrl-C to stop.""",
        flush=True,
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor = Supervisor(bot)  # restarts a server that exits; logs to stderr and supervisor.log
    while not stopping:
        supervisor.poll()
        time.sleep(supervisor.interval)
    print("\nStopping ...", flush=True)
    bot.stop()
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
