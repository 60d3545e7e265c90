"""A local stand-in for WeChat's side of an Official Account, over real HTTP.

Two halves, as at WeChat:
- `WeChatServer` (the API at WECHAT_API_BASE): /cgi-bin/token issues access tokens that
  can be expired or revoked at will, /cgi-bin/message/custom/send records every
  customer-service message and can refuse with 40001/42001 (token) or 45015 (48 hours).
- `WeChatPusher` (the message server): signs and, in compatible and safe mode, encrypts
  each message the way WeChat does (wechatpy's crypto run in WeChat's direction), waits
  `timeout` seconds (5 at WeChat) for the answer and retries the same message up to
  `retries` times, then checks and decrypts the passive reply.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

import xmltodict
from wechatpy.crypto import WeChatCrypto


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 over the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def cdata(text: str) -> str:
    """Text inside a CDATA section: "]]>" is split across two sections."""
    return str(text).replace("]]>", "]]]]><![CDATA[>")


# -- the API ----------------------------------------------------------------------------
class WeChatServer:
    def __init__(self, app_id: str, app_secret: str, expires_in: int = 7200) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.expires_in = expires_in  # what the token endpoint announces
        self.tokens: Dict[str, float] = {}  # token -> expiry (time.monotonic)
        self.revoked: set = set()
        self.token_fetches = 0
        self.sent: List[Dict[str, Any]] = []  # accepted customer-service messages, in order
        self.send_attempts: List[Dict[str, Any]] = []  # every call, with the errcode answered
        self.window_closed: set = set()  # OpenIDs that get 45015
        self.always_invalid_token = False  # every send answers 40001 (a broken token)
        self.lock = threading.Lock()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.http.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.http.server_address[1]}"

    def start(self) -> "WeChatServer":
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (42001), e.g. its 2 hours are over early."""
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def revoke_tokens(self) -> None:
        """Every token issued so far is now invalid (40001), e.g. the AppSecret was reset."""
        with self.lock:
            self.revoked.update(self.tokens)

    def messages_to(self, openid: str) -> List[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m.get("touser") == openid]

    def attempts_to(self, openid: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [a for a in self.send_attempts if a["message"].get("touser") == openid]

    def wait_for_attempts(self, openid: str, count: int, timeout: float = 15.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.attempts_to(openid)) < count:
            time.sleep(0.05)
        return self.attempts_to(openid)

    def wait_for_messages(self, openid: str, count: int, timeout: float = 15.0) -> List[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.messages_to(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.05)
        return self.messages_to(openid)

    # -- endpoints --
    def _token(self, query: Dict[str, str]) -> Dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_hex(16)
        with self.lock:
            self.token_fetches += 1
            self.tokens[token] = time.monotonic() + self.expires_in
        return {"access_token": token, "expires_in": self.expires_in}

    def _send(self, query: Dict[str, str], body: bytes) -> Dict[str, Any]:
        token = query.get("access_token", "")
        with self.lock:
            if self.always_invalid_token or token not in self.tokens or token in self.revoked:
                code = 40001
            elif self.tokens[token] <= time.monotonic():
                code = 42001
            else:
                code = 0
            try:
                message = json.loads(body)
            except ValueError:
                message, code = {}, code or 47001
            if code == 0 and message.get("touser") in self.window_closed:
                code = 45015
            if code == 0 and not (message.get("msgtype") == "text" and message.get("text", {}).get("content")):
                code = 44004  # empty content
            self.send_attempts.append({"message": message, "errcode": code})
            if code == 0:
                self.sent.append(message)
        return {"errcode": code, "errmsg": "ok" if code == 0 else f"error {code}"}

    def _handler(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, result: Dict[str, Any], status: int = 200) -> None:
                raw = json.dumps(result).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _route(self) -> tuple:
                url = urllib.parse.urlsplit(self.path)
                return url.path, dict(urllib.parse.parse_qsl(url.query))

            def do_GET(self) -> None:
                path, query = self._route()
                if path == "/cgi-bin/token":
                    return self._answer(server._token(query))
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)

            def do_POST(self) -> None:
                path, query = self._route()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if path == "/cgi-bin/message/custom/send":
                    return self._answer(server._send(query, body))
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


# -- the message pusher -----------------------------------------------------------------
@dataclass
class Delivery:
    """What WeChat saw when it pushed one message."""

    attempts: int = 0
    status: Optional[int] = None  # HTTP status of the answer that arrived (None: every attempt timed out)
    body: str = ""
    reply: Optional[Dict[str, Any]] = None  # the passive reply, decrypted; None for "success"/""
    timeouts: int = 0
    seconds: List[float] = field(default_factory=list)

    @property
    def text(self) -> Optional[str]:
        return self.reply.get("Content") if self.reply else None


class WeChatPusher:
    def __init__(
        self,
        url: str,
        token: str,
        app_id: str,
        aes_key: str,
        mode: str,
        account: str = "gh_anjiahome01",
        timeout: float = 5.0,
        retries: int = 3,
    ) -> None:
        self.url, self.token, self.app_id, self.mode = url, token, app_id, mode
        self.account = account
        self.timeout, self.retries = timeout, retries
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self._msg_id = int(time.time() * 1000) * 1000

    def next_msg_id(self) -> str:
        self._msg_id += 1
        return str(self._msg_id)

    # -- messages as WeChat writes them --
    def message_xml(
        self,
        openid: str,
        msg_type: str,
        fields: Dict[str, Any],
        msg_id: Optional[str] = None,
        create_time: Optional[int] = None,
    ) -> str:
        data: Dict[str, Any] = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(create_time or int(time.time())),
            "MsgType": msg_type,
        }
        data.update(fields)
        if msg_type != "event":
            data["MsgId"] = msg_id or self.next_msg_id()
        nodes = "".join(
            f"<{k}>{v}</{k}>"
            if k in ("CreateTime", "MsgId") or isinstance(v, (int, float))
            else f"<{k}><![CDATA[{cdata(v)}]]></{k}>"
            for k, v in data.items()
        )
        return f"<xml>{nodes}</xml>"

    def text(self, openid: str, content: str, **kwargs: Any) -> Delivery:
        return self.push(self.message_xml(openid, "text", {"Content": content}, **kwargs))

    def event(self, openid: str, event: str, **kwargs: Any) -> Delivery:
        return self.push(self.message_xml(openid, "event", {"Event": event}, **kwargs))

    # -- signing and encryption as WeChat does it --
    def signed(
        self, plain_xml: str, timestamp: Optional[int] = None, token: Optional[str] = None, mode: Optional[str] = None
    ) -> tuple:
        """(query, body) for one push; `token` other than ours forges the signatures."""
        token = token if token is not None else self.token
        mode = mode or self.mode
        timestamp_s, nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(5)
        openid = re.search(r"<FromUserName><!\[CDATA\[(.*?)\]\]>", plain_xml)
        query = {
            "signature": sign(token, timestamp_s, nonce),
            "timestamp": timestamp_s,
            "nonce": nonce,
            "openid": openid.group(1) if openid else "",
        }
        if mode == "plain":
            return query, plain_xml
        # WeChat's direction of the same crypto: AES(random + length + xml + AppID), then
        # msg_signature = SHA-1 over token, timestamp, nonce and the ciphertext.
        envelope = xmltodict.parse(self.crypto.encrypt_message(plain_xml, nonce, timestamp_s))["xml"]
        encrypted = envelope["Encrypt"]
        query.update(encrypt_type="aes", msg_signature=sign(token, timestamp_s, nonce, encrypted))
        if mode == "compatible":  # the plaintext fields and the ciphertext side by side
            body = plain_xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        else:
            body = (
                f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
        return query, body

    def post_once(self, query: Dict[str, str], body: Any, timeout: Optional[float] = None) -> tuple:
        """One HTTP POST: (status, body text); raises socket.timeout when WeChat would give up."""
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}?{urllib.parse.urlencode(query)}",
            data=data,
            method="POST",
            headers={"Content-Type": "text/xml"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as answer:
                return answer.status, answer.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except urllib.error.URLError as error:
            if isinstance(error.reason, socket.timeout):
                raise error.reason from error
            raise

    def push(self, plain_xml: str, **signing: Any) -> Delivery:
        """Push like WeChat: wait `timeout` s, retry the same message up to `retries` times."""
        delivery = Delivery()
        for _ in range(1 + self.retries):
            query, body = self.signed(plain_xml, **signing)  # each retry is signed afresh
            delivery.attempts += 1
            began = time.monotonic()
            try:
                delivery.status, delivery.body = self.post_once(query, body)
            except socket.timeout:
                delivery.timeouts += 1
                delivery.seconds.append(time.monotonic() - began)
                continue
            delivery.seconds.append(time.monotonic() - began)
            delivery.reply = self.read_reply(delivery.body, query) if delivery.status == 200 else None
            return delivery
        return delivery

    def read_reply(self, body: str, query: Dict[str, str]) -> Optional[Dict[str, Any]]:
        """The passive reply as WeChat reads it: "" or "success" = none; AES replies verified."""
        if body in ("", "success"):
            return None
        reply = xmltodict.parse(body)["xml"]
        if "Encrypt" in reply:
            if sign(self.token, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]) != reply["MsgSignature"]:
                raise AssertionError("reply msg_signature does not verify")
            reply = xmltodict.parse(
                self.crypto.decrypt_message(body, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
            )["xml"]
        elif query.get("encrypt_type") == "aes":
            raise AssertionError("plaintext reply to an encrypted message")
        return reply

    def verify_url(self, echostr: str, timestamp: Optional[int] = None, token: Optional[str] = None) -> tuple:
        """The GET WeChat sends when the shop saves the server URL."""
        token = token if token is not None else self.token
        timestamp_s, nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(5)
        query = {
            "signature": sign(token, timestamp_s, nonce),
            "timestamp": timestamp_s,
            "nonce": nonce,
            "echostr": echostr,
        }
        try:
            with urllib.request.urlopen(f"{self.url}?{urllib.parse.urlencode(query)}", timeout=self.timeout) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
