"""WeChat's customer-service message API (客服消息): send a text to an OpenID.

The WeChat channel uses it for answers that miss the passive-reply window and for the
second and later messages of a turn; the agent console uses `send_text` for agent
replies. Errors never reach the customer: callers log them (with WeChat's code) or, for
the console, show them to the agent. `ReplyWindowClosed` (45015) is its own class because
it means "the customer has not written for 48 hours", not "something is broken".

wechatpy's WeChatClient does the HTTP, caches the access_token until 60 s before it
expires (shared by every send of this process) and turns errcodes into exceptions. Two
things it does not do the way the issue needs, fixed here:
- its token URL is hard-coded to api.weixin.qq.com, so WECHAT_API_BASE would be ignored;
- with auto_retry it refreshes and retries on 40001/40014/42001 recursively, with no
  limit: a token the server keeps rejecting loops forever. Here: refresh once, retry once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from functools import lru_cache
from typing import Any, Dict, Optional

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

logger = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
WINDOW_CLOSED = 45015  # the customer has not written within 48 hours
HTTP_TIMEOUT = 5.0


class WeChatAPIError(Exception):
    """A call WeChat refused (errcode from WeChat) or that never got an answer (errcode None)."""

    def __init__(self, errcode: Optional[int], errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class ReplyWindowClosed(WeChatAPIError):
    """45015: WeChat only accepts customer-service messages within 48 h of the customer's last message."""


class _TimeoutSession(requests.Session):
    # wechatpy fetches the token without a timeout; a silent server would hang the sender.
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = HTTP_TIMEOUT
        return super().request(*args, **kwargs)


class _Client(WeChatClient):
    def __init__(self, app_id: str, app_secret: str, api_base: str) -> None:
        super().__init__(app_id, app_secret, timeout=HTTP_TIMEOUT, auto_retry=False)
        self.API_BASE_URL = api_base.rstrip("/") + "/cgi-bin/"
        self._http = _TimeoutSession()
        self._token_lock = threading.RLock()

    @property
    def access_token(self) -> str:
        # Sends run in worker threads: one fetch at a time, the others reuse its token.
        with self._token_lock:
            return super().access_token

    def fetch_access_token(self) -> Dict[str, Any]:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def refresh_token(self, rejected: str) -> str:
        """A fresh token, unless another thread already replaced the rejected one."""
        with self._token_lock:
            if self.session.get(self.access_token_key) == rejected:
                self.fetch_access_token()
            return self.session.get(self.access_token_key)


class CustomerServiceAPI:
    def __init__(self, app_id: str, app_secret: str, api_base: str) -> None:
        self._client = _Client(app_id, app_secret, api_base)

    def _post(self, endpoint: str, data: Dict[str, Any], token: str) -> Dict[str, Any]:
        return self._client.post(endpoint, data=data, params={"access_token": token})

    def send_text(self, openid: str, text: str) -> None:
        """Send one text; raise ReplyWindowClosed (45015) or WeChatAPIError."""
        data = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        try:
            token = self._client.access_token
            try:
                self._post("message/custom/send", data, token)
            except WeChatClientException as error:
                if error.errcode not in TOKEN_INVALID:
                    raise
                logger.info("WeChat rejected the access_token (%s), refreshing it once", error.errcode)
                self._post("message/custom/send", data, self._client.refresh_token(token))
        except WeChatClientException as error:
            cls = ReplyWindowClosed if error.errcode == WINDOW_CLOSED else WeChatAPIError
            raise cls(error.errcode, str(error.errmsg)) from None
        except requests.RequestException as error:
            # Never the exception's text: it quotes the URL, whose query holds the AppSecret
            # (token request) or the access_token (issue 12; bot/redact.py cleans logs too).
            raise WeChatAPIError(None, f"no answer from WeChat ({type(error).__name__})") from None

    async def send_text_async(self, openid: str, text: str) -> None:
        await asyncio.to_thread(self.send_text, openid, text)


@lru_cache(maxsize=4)
def api_for(app_id: str, app_secret: str, api_base: str) -> CustomerServiceAPI:
    """One client (one cached token) per account and process."""
    return CustomerServiceAPI(app_id, app_secret, api_base)


def default_api() -> CustomerServiceAPI:
    from bot import settings

    return api_for(settings.get("WECHAT_APP_ID"), settings.get("WECHAT_APP_SECRET"), settings.get("WECHAT_API_BASE"))


def send_text(openid: str, text: str) -> None:
    """For the agent console: send `text` to the WeChat user `openid` now.

    Raises ReplyWindowClosed when the 48-hour window is over (show the agent that the
    customer must write first), WeChatAPIError for anything else (code in `.errcode`).
    """
    default_api().send_text(openid, text)
