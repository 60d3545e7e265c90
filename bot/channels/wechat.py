"""WeChat Official Account (公众号) channel: WeChat's message-server protocol.

URL: /webhooks/wechat/webhook. GET is WeChat's URL verification (echo `echostr`); POST
carries one customer message as XML, in plaintext, compatible or safe (AES) mode.

Every POST is checked before anything reaches the bot: body size, `signature` over
token/timestamp/nonce, the timestamp window, no DTD/entities in the XML, and in AES mode
`msg_signature` and the AppID inside the ciphertext. Refusals are 403 (not from WeChat)
or 400 (not a WeChat message), never a 500.

Security (issue 12, item 7): signatures are compared in constant time; each
(timestamp, nonce) pair is remembered for the timestamp window (`Nonces`) and a request
that reuses one is refused (403), unless it is a retry of the very message the pair came
with that never got its answer (WeChat's retry): so a captured signature cannot carry
another body (plain mode signs no body) nor replay an answered request. Text starting
with `/` is read as text (bot/customer_text.py); the subscribe greeting is the channel's
own, signed message.

Timing: WeChat waits 5 s for the HTTP answer, then retries the same message (up to 3
times). The bot's first message goes back passively in the HTTP answer when it is ready
within WECHAT_PASSIVE_TIMEOUT; otherwise the answer is "success" and everything goes
through the customer-service API (bot.channels.wechat_api). A message is one `Turn`,
keyed by MsgId (events: FromUserName + CreateTime): retries join the running turn
instead of starting a second bot run, and exactly one of them, or the API, delivers it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple

import xmltodict
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from bot import customer_text, settings
from bot.channels.wechat_api import CustomerServiceAPI, WeChatAPIError, api_for

logger = logging.getLogger(__name__)

MODES = ("plain", "compatible", "safe")
MAX_BODY_BYTES = 64 * 1024  # a WeChat message is a few KB even encrypted
MAX_OPENID_LENGTH = 128

# Customer-facing texts the bot's domain has no response for (the channel answers them).
NON_TEXT_NOTE = {
    "zh": "您好，非常抱歉，我目前只能阅读文字消息，暂时看不到图片、语音、视频、位置和链接的内容。"
    "请您用文字描述一下问题，我马上为您处理；如需人工客服，请回复“转人工”。",
    "en": "Sorry, I can only read text messages for now, so I can't see images, voice messages, "
    "videos, locations or links. Please type your question and I'll help right away; "
    'if you\'d like to talk to a person, reply "human agent".',
}
BUSY_NOTE = {
    "zh": "非常抱歉，系统暂时有些繁忙，没能处理您的消息。请您稍后再发送一次，感谢您的耐心。",
    "en": "I'm sorry, the system is briefly busy and couldn't handle your message. "
    "Please send it again in a moment; thank you for your patience.",
}
NOT_CONFIGURED = (
    "WeChat is not configured on this server: set WECHAT_TOKEN (and WECHAT_APP_ID, "
    "WECHAT_APP_SECRET, WECHAT_AES_KEY, WECHAT_MODE) in .env. "
    "本服务器尚未配置微信公众号。"
)


def signature_matches(signature: Any, token: str, *parts: str) -> bool:
    """WeChat's SHA-1 over the sorted token and parts, compared in constant time."""
    expected = hashlib.sha1("".join(sorted([token, *parts])).encode("utf-8")).hexdigest()
    return isinstance(signature, str) and hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode())


class Nonces:
    """The (timestamp, nonce) pairs seen within the timestamp window, with the message each
    came with and whether its answer went out."""

    def __init__(self, keep_seconds: float, max_pairs: int = 200_000) -> None:
        self.keep_seconds = keep_seconds
        self.max_pairs = max_pairs
        self._seen: "OrderedDict[Tuple[str, str], List[Any]]" = OrderedDict()  # pair -> [seen_at, key, answered]

    def _prune(self, now: float) -> None:
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if now - oldest[0] < self.keep_seconds and len(self._seen) <= self.max_pairs:
                break
            self._seen.popitem(last=False)

    def admit(self, pair: Tuple[str, str], key: str) -> bool:
        """False for a replay: the pair came before with another message, or its answer went out."""
        now = time.monotonic()
        self._prune(now)
        seen = self._seen.get(pair)
        if seen is None:
            self._seen[pair] = [now, key, False]
            return True
        return seen[1] == key and not seen[2]

    def answered(self, pair: Tuple[str, str]) -> None:
        if pair in self._seen:
            self._seen[pair][2] = True


def bilingual(texts: Dict[str, str], language: Optional[str]) -> str:
    """The text in the conversation's language; both when the language is not known yet."""
    return texts[language] if language in texts else f"{texts['zh']}\n\n{texts['en']}"


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    app_id: str
    app_secret: str
    aes_key: str
    mode: str
    api_base: str
    timestamp_window: float
    passive_timeout: float

    @classmethod
    def from_settings(cls) -> "WeChatConfig":
        config = cls(
            token=settings.get("WECHAT_TOKEN"),
            app_id=settings.get("WECHAT_APP_ID"),
            app_secret=settings.get("WECHAT_APP_SECRET"),
            aes_key=settings.get("WECHAT_AES_KEY"),
            mode=settings.get("WECHAT_MODE").lower(),
            api_base=settings.get("WECHAT_API_BASE"),
            timestamp_window=float(settings.get("WECHAT_TIMESTAMP_WINDOW")),
            passive_timeout=float(settings.get("WECHAT_PASSIVE_TIMEOUT")),
        )
        if config.token:  # a half-configured account stops the server with the reason
            if config.mode not in MODES:
                raise ValueError(f"WECHAT_MODE must be one of {', '.join(MODES)}, not {config.mode!r}")
            if config.mode != "plain" and (len(config.aes_key) != 43 or not config.app_id):
                raise ValueError(
                    f"WECHAT_MODE={config.mode} needs WECHAT_APP_ID and the 43-character "
                    "WECHAT_AES_KEY (EncodingAESKey)"
                )
        return config


@dataclass(frozen=True)
class Inbound:
    message: Any  # a wechatpy message or event
    openid: str  # the sender: the conversation id, so a conversation continues across messages
    kind: str  # MsgType: text, image, ..., event
    key: str  # MsgId, or FromUserName + CreateTime for events: the same for WeChat's retries


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def checked_xml(raw: str) -> str:
    """WeChat's XML never has a DTD, entities or comments: refuse any `<!` outside CDATA.

    This runs before any parser sees the text, so entity-expansion bombs and external
    entities never get expanded. Inside CDATA "<!" is the customer's text, not markup.
    """
    at = raw.find("<!")
    while at != -1:
        if not raw.startswith("<![CDATA[", at):
            raise Refused(400, "XML with a DTD, entity or comment is not accepted")
        end = raw.find("]]>", at + 9)
        if end == -1:
            raise Refused(400, "unterminated CDATA section")
        at = raw.find("<!", end + 3)
    return raw


def _as_text(message: Dict[str, Any]) -> Optional[str]:
    """One bot message as WeChat text: the text, then any buttons as numbered lines."""
    lines = [message.get("text") or ""]
    lines += [f"{i}. {b.get('title', '')}" for i, b in enumerate(message.get("buttons") or [], 1)]
    if message.get("image"):
        lines.append(str(message["image"]))
    text = "\n".join(line for line in lines if line).strip()
    return text or None


class Turn:
    """One inbound message and its bot run, shared by WeChat's retries of it."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done = asyncio.Event()
        self.texts: List[str] = []
        self.waiting = 0  # requests waiting to answer passively
        self.answered = False  # the answer has gone out (passively or through the API)

    def claim(self) -> bool:
        """True for exactly one caller once the bot is done: that caller delivers the answer."""
        if not self.done.is_set() or self.answered:
            return False
        self.answered = True
        return True


class Turns:
    """Turns by message key, kept long enough to outlive WeChat's retries and the timestamp window."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._turns: "OrderedDict[str, Turn]" = OrderedDict()

    def get_or_create(self, key: str) -> Tuple[Turn, bool]:
        now = time.monotonic()
        while self._turns:
            oldest = next(iter(self._turns.values()))
            if now - oldest.started < self.keep_seconds or not oldest.done.is_set():
                break
            self._turns.popitem(last=False)
        if key in self._turns:
            return self._turns[key], False
        turn = self._turns[key] = Turn()
        return turn, True


class WeChatOutput(OutputChannel):
    """Sends through the customer-service API; errors are logged with WeChat's code."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    def __init__(self, api: CustomerServiceAPI) -> None:
        self.api = api

    async def _send(self, openid: str, text: str) -> bool:
        try:
            await self.api.send_text_async(openid, text)
            return True
        except WeChatAPIError as error:
            logger.error(
                "WeChat customer-service message to %s not delivered: errcode %s (%s)",
                openid,
                error.errcode,
                error.errmsg,
            )
            return False

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        # Rasa's own pushes (console triggers, reminders): a failure is logged, never raised
        # into the dialogue.
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        # One message with numbered titles, as in the channel's own answers (never the payloads).
        await self._send(recipient_id, _as_text({"text": text, "buttons": buttons}) or text)

    async def deliver(self, openid: str, texts: List[str]) -> None:
        """Send in order; stop at the first failure (the rest would arrive out of order)."""
        for sent, text in enumerate(texts):
            if not await self._send(openid, text):
                if len(texts) - sent > 1:
                    logger.error("%d later message(s) to %s not sent", len(texts) - sent - 1, openid)
                return


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(WeChatConfig.from_settings())

    def __init__(self, config: WeChatConfig) -> None:
        self.config = config
        self.crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id)
            if (config.token and config.mode != "plain")
            else None
        )
        self.output = WeChatOutput(api_for(config.app_id, config.app_secret, config.api_base))
        self.turns = Turns(keep_seconds=max(config.timestamp_window, 60.0))
        # A pair outside the window is refused by its timestamp; inside it, by this memory.
        self.nonces = Nonces(keep_seconds=2 * config.timestamp_window + 60.0)
        self._background: Set[asyncio.Task] = set()

    def get_output_channel(self) -> OutputChannel:
        return self.output

    # -- request checks ---------------------------------------------------------------
    def _check_signature(self, request: Request) -> Tuple[str, str]:
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if not signature_matches(args.get("signature", ""), self.config.token, timestamp, nonce):
            raise Refused(403, "invalid signature")
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            raise Refused(403, "invalid timestamp") from None
        if age > self.config.timestamp_window:
            raise Refused(403, "timestamp outside the accepted window")
        return timestamp, nonce

    async def _read_body(self, request: Request) -> str:
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(400, f"body larger than {MAX_BODY_BYTES} bytes")
        body = bytearray()
        while True:
            chunk = await request.stream.read()
            if chunk is None:
                break
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise Refused(400, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8") from None

    def _decrypt(self, request: Request, raw: str, timestamp: str, nonce: str) -> str:
        try:
            outer = xmltodict.parse(raw)["xml"]
            encrypted = outer["Encrypt"]
        except Exception:
            raise Refused(400, "malformed encrypted message") from None
        if not isinstance(encrypted, str) or not signature_matches(
            request.args.get("msg_signature", ""), self.config.token, timestamp, nonce, encrypted
        ):
            raise Refused(403, "invalid msg_signature or AppID")
        try:
            return self.crypto.decrypt_message(
                {"Encrypt": encrypted}, request.args.get("msg_signature", ""), timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise Refused(403, "invalid msg_signature or AppID") from None
        except Exception:
            raise Refused(400, "message cannot be decrypted") from None

    def _message(self, request: Request, raw: str, timestamp: str, nonce: str) -> Tuple["Inbound", bool]:
        """The parsed message and whether it came encrypted."""
        encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
        if encrypted and not self.crypto:
            raise Refused(400, "encrypted message, but WECHAT_MODE is plain")
        if self.config.mode == "safe" and not encrypted:
            raise Refused(403, "WECHAT_MODE is safe: plaintext messages are not accepted")
        checked_xml(raw)
        if encrypted:
            raw = checked_xml(self._decrypt(request, raw, timestamp, nonce))
        try:
            message = parse_message(raw)
            openid = message.source
            key = f"msg:{message.id}" if message.id else f"event:{openid}:{message.time}"
            # wechatpy calls unknown events and unknown messages alike "unknown".
            kind = str(xmltodict.parse(raw)["xml"]["MsgType"]).lower()
        except Exception:
            raise Refused(400, "malformed WeChat message") from None
        if not isinstance(openid, str) or not openid or len(openid) > MAX_OPENID_LENGTH:
            raise Refused(400, "missing or invalid FromUserName")
        return Inbound(message, openid, kind, key), encrypted

    # -- what the customer gets -------------------------------------------------------
    async def _language(self, request: Request, openid: str) -> Optional[str]:
        """The conversation's language slot, if this customer has talked to the bot before."""
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve(openid)
        except Exception:
            logger.exception("could not read the conversation language of %s", openid)
            return None
        return tracker.get_slot("language") if tracker else None

    async def _bot(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        openid: str,
        text: str,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> List[str]:
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, openid, input_channel=self.name(), metadata=metadata))
        except Exception:
            logger.exception("the bot failed on a WeChat message from %s", openid)
            return [bilingual(BUSY_NOTE, await self._language(request, openid))]
        return [text for text in map(_as_text, collector.messages) if text]

    async def _answer_of(
        self, request: Request, inbound: "Inbound", on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> List[str]:
        message, openid, kind = inbound.message, inbound.openid, inbound.kind
        if kind == "text":
            return await self._bot(request, on_new_message, openid, message.content or "")
        if kind == "voice" and (message.recognition or "").strip():
            # WeChat's own speech recognition, when the account has it enabled.
            return await self._bot(request, on_new_message, openid, message.recognition)
        if kind == "event":
            if getattr(message, "event", None) in ("subscribe", "subscribe_scan", "subscribe_scan_product"):
                language = await self._language(request, openid) or "zh"
                greet = "/greet" + json.dumps({"language": language})
                return await self._bot(request, on_new_message, openid, greet, customer_text.server_made(greet))
            return []  # menu clicks, unsubscribe, location reports: nothing to say
        # Media, links and message types we do not know: the customer waits for an answer.
        return [bilingual(NON_TEXT_NOTE, await self._language(request, openid))]

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, turn: Turn, answer: Awaitable[List[str]], openid: str) -> None:
        try:
            turn.texts = await answer
        except Exception:
            logger.exception("WeChat message from %s not answered", openid)
        finally:
            turn.done.set()
            if turn.waiting == 0:  # every request gave up waiting: the API delivers it all
                self._deliver_late(turn, openid)

    def _deliver_late(self, turn: Turn, openid: str) -> None:
        if turn.claim() and turn.texts:
            self._spawn(self.output.deliver(openid, turn.texts))

    async def _passive(self, turn: Turn, openid: str) -> Optional[str]:
        """The text this request answers with, or None for "success"."""
        turn.waiting += 1
        try:
            await asyncio.wait_for(turn.done.wait(), self.config.passive_timeout)
        except asyncio.TimeoutError:
            pass
        except asyncio.CancelledError:  # WeChat hung up (its 5 s are over)
            turn.waiting -= 1
            if turn.waiting == 0:
                self._deliver_late(turn, openid)
            raise
        turn.waiting -= 1
        if not turn.claim() or not turn.texts:
            return None
        if len(turn.texts) > 1:  # sent after this answer has been written, so they arrive after it
            self._spawn(self.output.deliver(openid, turn.texts[1:]))
        return turn.texts[0]

    def _reply(self, message: Any, text: Optional[str], encrypted: bool, nonce: str) -> HTTPResponse:
        if text is None:
            return response.text("success")
        xml = TextReply(message=message, content=text.replace("]]>", "]]]]><![CDATA[>")).render()
        if encrypted:
            xml = self.crypto.encrypt_message(xml, nonce)
        return response.text(xml, content_type="application/xml")

    # -- routes -----------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.config.token else "not configured"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.config.token:
                return response.text(NOT_CONFIGURED, status=503)
            try:
                self._check_signature(request)
            except Refused as refused:
                return response.text(refused.reason, status=refused.status)
            echostr = request.args.get("echostr")
            if not echostr:
                return response.text("missing echostr", status=400)
            return response.text(echostr)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not self.config.token:
                return response.text(NOT_CONFIGURED, status=503)
            try:
                timestamp, nonce = self._check_signature(request)
                raw = await self._read_body(request)
                inbound, encrypted = self._message(request, raw, timestamp, nonce)
                if not self.nonces.admit((timestamp, nonce), inbound.key):
                    raise Refused(403, "replayed request (timestamp and nonce already used)")
            except Refused as refused:
                logger.warning("WeChat request refused (%s): %s", refused.status, refused.reason)
                return response.text(refused.reason, status=refused.status)
            turn, new = self.turns.get_or_create(inbound.key)
            if new:
                self._spawn(self._run(turn, self._answer_of(request, inbound, on_new_message), inbound.openid))
            text = await self._passive(turn, inbound.openid)
            self.nonces.answered((timestamp, nonce))
            return self._reply(inbound.message, text, encrypted, nonce)

        return webhook
