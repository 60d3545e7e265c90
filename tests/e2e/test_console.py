"""The agent console and the website chat, on a real bot and in a real browser (issue 5).

A bot of this module (its own stores), so that ticket numbers and hand-offs are its own.
"""

from __future__ import annotations

import json
from typing import Any, List

import pytest

from tests.support.bots import store_of
from tests.support.rest import RestClient
from tests.support.waiting import wait_until
from tests.support.web import (
    SCREENSHOTS,
    Http,
    LoginRefused,
    agent_login,
    conversation_of,
    handoff_ticket,
    launch_browser,
)

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def web_bot(bot_factory):
    return bot_factory.started_bot("console")


def say(bot, sender: str, text: str) -> List[str]:
    """A customer on the REST channel; returns the bot's texts."""
    return RestClient.of(bot).texts(sender, text)


def tracker(bot, sender: str) -> Any:
    return RestClient.of(bot).tracker(sender)


def bot_texts(bot, sender: str) -> List[str]:
    """Every message the bot (or an agent) has sent in the conversation, per the tracker."""
    return [e.get("text") for e in tracker(bot, sender)["events"] if e["event"] == "bot"]


# -- refusals -------------------------------------------------------------------------

PAGES = ["/agent/", "/agent/console.js"]
APIS = ["/agent/api/me", "/agent/api/tickets"]
POSTS = ["/agent/api/tickets/1/claim", "/agent/api/tickets/1/reply", "/agent/api/tickets/1/end", "/agent/logout"]


def test_every_console_endpoint_refuses_without_login(web_bot):
    anonymous = Http(web_bot.url)
    for path in PAGES:
        status, headers, _ = anonymous.request("GET", path)
        assert status == 302 and headers["Location"].endswith("/agent/login"), path
    for path in APIS:
        assert anonymous.request("GET", path)[0] == 401, path
    for path in POSTS:
        assert anonymous.post_json(path, {"text": "hi"})[0] == 401, path
    # A forged cookie is no login.
    forged = Http(web_bot.url)
    cookie = {"Cookie": "agent_session=eyJ1IjoiYWdlbnQifQ.00"}
    forged.request("GET", "/agent/api/me", headers=cookie)
    assert forged.request("GET", "/agent/api/tickets", headers=cookie)[0] == 401


def test_wrong_password_and_login_without_token_are_refused(web_bot):
    client = Http(web_bot.url)
    with pytest.raises(LoginRefused) as refused:
        client.login(password="wrong")
    assert refused.value.status == 401 and "Wrong username or password" in refused.value.page
    assert client.request("GET", "/agent/api/me")[0] == 401  # no session came of it
    status, _, _ = client.request(
        "POST",
        "/agent/login",
        b"username=agent&password=" + b"x",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403


def test_posts_need_the_csrf_token_and_the_same_site(web_bot):
    client = Http(web_bot.url)
    token = client.login()
    for path in POSTS:
        assert client.post_json(path, {"text": "hi"})[0] == 403, path  # no token
        assert client.post_json(path, {"text": "hi"}, csrf="0" * 64)[0] == 403, path  # wrong token
        status, _ = client.post_json(path, {"text": "hi"}, csrf=token, extra={"Origin": "https://evil.example"})
        assert status == 403, path
        status, _ = client.post_json(path, {"text": "hi"}, csrf=token, extra={"Sec-Fetch-Site": "cross-site"})
        assert status == 403, path
    # The token of another session is no good either.
    other = Http(web_bot.url)
    other.login()
    assert other.post_json("/agent/api/tickets/1/claim", {}, csrf=token)[0] == 403
    # With the token: through to the handler (no such ticket), and no 500 on bad input.
    assert client.post_json("/agent/api/tickets/999999/claim", {}, csrf=token)[0] == 404
    status, _, _ = client.request(
        "POST", "/agent/api/tickets/1/reply", b"{not json", {"Content-Type": "application/json", "X-CSRF-Token": token}
    )
    assert status == 400
    assert client.post_json("/agent/api/tickets/1/reply", ["x"], csrf=token)[0] == 400


def test_console_pages_carry_a_csp(web_bot):
    client = Http(web_bot.url)
    client.login()
    status, headers, _ = client.request("GET", "/agent/")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


# -- XSS --------------------------------------------------------------------------------


def test_customer_markup_is_shown_as_text_in_the_console(web_bot):
    from playwright.sync_api import sync_playwright

    sender = "xss-customer"
    say(web_bot, sender, "转人工")
    handoff_ticket(web_bot, sender)
    say(web_bot, sender, XSS)  # while paused: for the agent's eyes only
    dialogs: List[str] = []
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            agent_login(page, web_bot.url)
            ticket = handoff_ticket(web_bot, sender)
            page.locator("#waiting li", has_text=f"#{ticket.id} ").click()
            line = page.locator("#transcript li.customer .text", has_text="<img")
            line.first.wait_for(timeout=10_000)
            assert XSS in line.all_inner_texts()
            assert page.locator("#transcript img").count() == 0
            page.wait_for_load_state("networkidle")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "console-xss.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []


# -- the two-page hand-off ------------------------------------------------------------------


def test_customer_asks_for_a_person_agent_takes_over_in_two_pages(web_bot):
    two_pages(web_bot, ["转人工"], "request")


def test_customer_complains_then_asks_for_a_person_in_two_pages(web_bot):
    """Issue 5 "Done when": complaint in the widget, then a person."""
    two_pages(web_bot, ["我买的衣柜收到时门板是坏的，太让人失望了", "转人工"], "complaint")


def two_pages(web_bot, opening: List[str], name: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            customer = browser.new_context().new_page()
            agent = browser.new_context().new_page()
            customer.goto(f"{web_bot.url}/shop/")
            customer.locator(".rw-launcher").click()
            responses = customer.locator(".rw-response")
            expect(responses.first).to_be_visible(timeout=15_000)  # the greeting (initPayload)
            # The widget keeps the server's signed session id; the conversation is its first part.
            session_id = conversation_of(
                customer.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")
            )

            def send(text: str) -> None:
                customer.fill(".rw-new-message", text)
                customer.keyboard.press("Enter")

            def all_shown(text: str) -> None:
                """The bot's whole turn is in the tracker, and the widget shows every message of it."""
                wait_until(
                    lambda: (
                        text in [e.get("text") for e in tracker(web_bot, session_id)["events"] if e["event"] == "user"]
                    ),
                    15,
                    message=f"{text!r} never reached the bot",
                )
                expect(responses).to_have_count(len(bot_texts(web_bot, session_id)), timeout=15_000)

            for text in opening:
                send(text)
                all_shown(text)
            expect(responses.last).to_contain_text("人工客服", timeout=15_000)
            ticket = handoff_ticket(web_bot, session_id)
            assert ticket.status == "waiting" and ticket.channel == "socketio" and ticket.language == "zh"

            agent_login(agent, web_bot.url)
            item = agent.locator("#waiting li", has_text=f"#{ticket.id} ")
            expect(item).to_be_visible(timeout=10_000)
            item.click()
            expect(agent.locator("#facts")).to_contain_text(ticket.summary[:20])
            expect(agent.locator("#transcript")).to_contain_text(opening[0])
            agent.locator("#claim").click()
            expect(agent.locator("#active li", has_text=f"#{ticket.id} ")).to_be_visible(timeout=10_000)

            reply = "您好，我是客服小王，非常抱歉给您带来不便，我马上为您处理。"
            agent.fill("#reply", reply)
            agent.locator("#send").click()
            expect(responses.last).to_contain_text("客服小王", timeout=10_000)

            before = responses.count()
            said_before = bot_texts(web_bot, session_id)
            send("好的，谢谢您")
            expect(agent.locator("#transcript li.customer").last).to_contain_text("好的，谢谢您", timeout=10_000)
            # The message is in the saved tracker, so the turn is over: the bot said nothing.
            wait_until(
                lambda: (
                    "好的，谢谢您"
                    in [e.get("text") for e in tracker(web_bot, session_id)["events"] if e["event"] == "user"]
                ),
                10,
            )
            assert bot_texts(web_bot, session_id) == said_before, "the bot answered while an agent had the conversation"
            assert responses.count() == before, "the widget shows a message nobody sent"
            customer.screenshot(path=str(SCREENSHOTS / f"handoff-{name}-customer.png"))
            agent.screenshot(path=str(SCREENSHOTS / f"handoff-{name}-agent.png"), full_page=True)

            agent.locator("#end").click()
            expect(responses.last).to_contain_text("1-5", timeout=15_000)
            expect(customer.locator(".rw-replies").last).to_be_visible()
            customer.screenshot(path=str(SCREENSHOTS / f"handoff-{name}-customer-rating.png"))
            agent.screenshot(path=str(SCREENSHOTS / f"handoff-{name}-agent-ended.png"), full_page=True)
        finally:
            browser.close()
    closed = store_of(web_bot).tickets(id=ticket.id)[0]
    assert closed.status == "closed" and closed.closed_at is not None and closed.agent == "agent"
    events = tracker(web_bot, session_id)["events"]
    agent_lines = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent") == "agent"]
    assert [e["text"] for e in agent_lines] == [reply]
    assert any(e["event"] == "resume" for e in events)


# -- restart during a hand-off ------------------------------------------------------------


def test_restart_during_handoff_keeps_it_paused_and_the_ticket(web_bot):
    sender = "restart-customer"
    say(web_bot, sender, "I want a human")
    ticket = handoff_ticket(web_bot, sender)
    assert tracker(web_bot, sender)["paused"] is True
    web_bot.stop()
    web_bot.start(timeout=240)
    assert tracker(web_bot, sender)["paused"] is True
    # Still waiting for an agent: the bot only acknowledges (bot/handoff_waiting.py).
    [waiting] = say(web_bot, sender, "hello? anyone there?")
    assert "Your message has been received" in waiting and "in the queue" in waiting
    after = store_of(web_bot).tickets(kind="handoff", conversation_id=sender)
    assert len(after) == 1
    assert (after[0].id, after[0].status, after[0].summary, after[0].reason, after[0].transcript) == (
        ticket.id,
        "waiting",
        ticket.summary,
        ticket.reason,
        ticket.transcript,
    )
    client = Http(web_bot.url)
    client.login()
    status, _, raw = client.request("GET", "/agent/api/tickets")
    shown = [t for t in json.loads(raw)["tickets"] if t["id"] == ticket.id][0]
    assert shown["paused"] is True
    assert [line["sender"] for line in shown["transcript"][-2:]] == ["customer", "bot"]
    assert [line["text"] for line in shown["transcript"][-2:]] == ["hello? anyone there?", waiting]
