"""The demo shop's product page at /shop/ with the rasa-webchat widget (socket.io).

`/shop/?lang=en` shows the page in English and tells the widget (customData.language),
so the bot answers in the page's language from the first message. The widget's
JavaScript is the npm package installed by `make setup` in bot/web/node_modules.
Registered in credentials.yml as an input channel only to get its routes served.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.shop.loader import cached_shop

WEB = Path(__file__).resolve().parent.parent / "web"
WIDGET = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"

TEXTS = {
    "zh": {
        "title": "安家优品 · 全部商品",
        "switch": "English",
        "switch_lang": "en",
        "price": "¥{price}",
        "chat_title": "安家优品客服",
        "chat_subtitle": "在线客服 小安",
        "hint": "请输入您的问题…",
        "connecting": "正在连接客服…",
        "no_widget": "聊天组件未安装，请运行 make setup。",
    },
    "en": {
        "title": "Anjia Home · All products",
        "switch": "中文",
        "switch_lang": "zh",
        "price": "CNY {price}",
        "chat_title": "Anjia Home support",
        "chat_subtitle": "Ann, online assistant",
        "hint": "Type your question…",
        "connecting": "Connecting…",
        "no_widget": "The chat widget is not installed; run make setup.",
    },
}


def _language(request: Request) -> str:
    language = (request.args.get("lang") or "zh").lower()[:2]
    return language if language in TEXTS else "zh"


def render_shop(language: str) -> str:
    shop = cached_shop(str(settings.path("SHOP_DATA_DIR")))
    t = TEXTS[language]
    e = html.escape
    sections = []
    for category_id, category in shop.categories.items():
        cards = "".join(
            f'<li class="product"><h3>{e(p["name"][language])}</h3>'
            f'<p class="price">{e(t["price"].format(price=p["price"]))}</p></li>'
            for p in shop.products.values()
            if p["category"] == category_id
        )
        sections.append(f'<section><h2>{e(category["name"][language])}</h2><ul class="products">{cards}</ul></section>')
    # The widget's settings travel in data-* attributes: shop.js reads them, no inline script.
    chat = {k: t[k] for k in ("chat_title", "chat_subtitle", "hint", "connecting")}
    data = " ".join(f'data-{k.replace("_", "-")}="{e(v)}"' for k, v in chat.items())
    return f"""<!doctype html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t["title"])}</title>
<link rel="stylesheet" href="/shop/shop.css">
</head>
<body>
<header><h1>{e(shop.info["name"][language])}</h1>
<a href="/shop/?lang={t["switch_lang"]}">{e(t["switch"])}</a></header>
<main><h1>{e(t["title"])}</h1>{"".join(sections)}</main>
<div id="webchat" {data} data-language="{language}" data-missing="{e(t["no_widget"])}"></div>
<script src="/shop/webchat.js"></script>
<script src="/shop/shop.js"></script>
</body>
</html>"""


class ShopPages(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "shop_pages"

    def url_prefix(self) -> Text:
        return "/shop"  # absolute: served at /shop/, not under /webhooks/

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        pages = Blueprint("shop_pages", __name__)

        @pages.get("/")
        async def shop_page(request: Request) -> HTTPResponse:
            return response.html(render_shop(_language(request)))

        @pages.get("/webchat.js")
        async def widget(_: Request) -> HTTPResponse:
            if not WIDGET.exists():
                return response.text(
                    "// rasa-webchat is not installed: run `make setup`\n", status=404, content_type="text/javascript"
                )
            return await response.file(str(WIDGET), mime_type="text/javascript; charset=utf-8")

        @pages.get("/shop.js")
        async def script(_: Request) -> HTTPResponse:
            return await response.file(str(WEB / "shop" / "shop.js"), mime_type="text/javascript; charset=utf-8")

        @pages.get("/shop.css")
        async def stylesheet(_: Request) -> HTTPResponse:
            return await response.file(str(WEB / "shop" / "shop.css"), mime_type="text/css; charset=utf-8")

        return pages
