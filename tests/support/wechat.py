"""The test Official Account: its settings for a bot, OpenIDs, WeChat's pusher for a bot."""

from __future__ import annotations

import uuid
from typing import Any, Dict

from tests.support.wechat_standin import WeChatPusher

TOKEN = "anjia-wechat-test-token"
APP_ID = "wx5ad0c4d1e2f3a4b5"
APP_SECRET = "test-app-secret-0123456789abcdef"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # 43 characters, as WeChat generates
GREETING_ZH = "您好，我是客服小安，很高兴为您服务，请问有什么可以帮您？😊"
GREETING_EN = "Hello, I'm Ann from customer service, happy to help. What can I do for you? 😊"


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]  # OpenIDs are 28 characters


def bot_env(api_base: str, mode: str, **extra: str) -> Dict[str, str]:
    """A bot's WeChat settings for the test account, against the stand-in at `api_base`."""
    return {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_MODE": mode,
        "WECHAT_API_BASE": api_base,
        "WECHAT_TIMESTAMP_WINDOW": "300",
        **extra,
    }


def pusher(bot: Any, mode: str, **kwargs: Any) -> WeChatPusher:
    """WeChat pushing messages to `bot`'s WeChat URL in `mode`."""
    return WeChatPusher(
        f"{bot.url}/webhooks/wechat/webhook", TOKEN, APP_ID, AES_KEY if mode != "plain" else "", mode, **kwargs
    )
