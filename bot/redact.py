"""No secret in any log line (issue 12, item 7).

`install()` (both servers call it at start) replaces the logging record factory, so every
record of every logger (Rasa, Sanic, rasa_sdk, wechatpy, requests, structlog through the
standard library, ours) is cleaned when it is created, before any handler formats it:
- the configured secrets (SECRET_SETTINGS: tokens, AppSecret, AES key, passwords,
  signing keys) wherever they appear, message, arguments and traceback alike;
- credentials in URLs: `secret=`, `access_token=`, `token=`, `password=` query values
  (a failed WeChat token request used to log its URL with the AppSecret).
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from typing import Any, Callable, Iterable, List

MASK = "[redacted]"
SECRET_SETTINGS = (
    "WECHAT_APP_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_AES_KEY",
    "RASA_API_TOKEN",
    "ACTION_SERVER_TOKEN",
    "REST_TOKEN",
    "WEBSITE_SECRET",
    "AGENT_PASSWORD",
    "AGENT_SECRET",
    "ORDER_API_TOKEN",
)
QUERY_SECRET = re.compile(r"(?i)\b(secret|appsecret|access_token|token|password|auth_token)=([^&\s'\"<>)]+)")
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words

_installed: List[Callable[..., logging.LogRecord]] = []


def secrets_in_environment(names: Iterable[str] = SECRET_SETTINGS) -> List[str]:
    values = {os.environ.get(name, "") for name in names}
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def clean(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)


def install(secrets: Iterable[str] = ()) -> None:
    """Clean every log record of this process from now on (once; later calls add secrets)."""
    known = list(secrets) or secrets_in_environment()
    if _installed:
        _cleaner.secrets = sorted(set(_cleaner.secrets) | set(known), key=len, reverse=True)  # type: ignore[attr-defined]
        return
    make_record = logging.getLogRecordFactory()
    _installed.append(make_record)

    def cleaned_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            _cleaner(record)
        except Exception:  # a log line is never lost to its cleaning
            pass
        return record

    _cleaner.secrets = known  # type: ignore[attr-defined]
    logging.setLogRecordFactory(cleaned_record)


def _cleaner(record: logging.LogRecord) -> None:
    secrets = _cleaner.secrets  # type: ignore[attr-defined]
    message = record.getMessage()
    cleaned = clean(message, secrets)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = clean("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"), secrets)
    if record.stack_info:
        record.stack_info = clean(record.stack_info, secrets)


def uninstall() -> None:
    """For tests: the record factory as it was."""
    if _installed:
        logging.setLogRecordFactory(_installed.pop())
