"""Waiting on conditions instead of sleeping a fixed time."""

from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.05, message: Optional[str] = None) -> T:
    """The first truthy value of `predicate()`; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


def holds_for(
    predicate: Callable[[], object], seconds: float, interval: float = 0.05, message: Optional[str] = None
) -> None:
    """`predicate()` stays true for `seconds` (for "nothing more happens" checks);
    fails as soon as it is false."""
    deadline = time.monotonic() + seconds
    while True:
        if not predicate():
            raise AssertionError(message or "condition stopped holding")
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)
