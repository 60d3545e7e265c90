"""Shared test support (no fixtures here: fixtures live in the conftest.py files).

- rest.py: the one REST client of the tests (send, texts, tracker, raw posts, Rasa's API).
- waiting.py: wait_until / holds_for instead of fixed sleeps.
- voice.py: the shop's voice rules (forbidden phrases, CJK) shared by the etiquette checks.
- bots.py: starting test bots on free ports with their own stores, and `make run`'s launcher
  as a process (used by tests/e2e/conftest.py).
- web.py: the agent console over HTTP (cookie jar, CSRF), the browser, hand-off tickets.
- wechat_standin.py: a local WeChat (API + message pusher).
- order_api_standin.py: a local shop order API.
- local_app.py: a Sanic app served in the test process (unit tests of the public surface).
- turns.py: what every turn of a conversation must satisfy (conversation suite, fuzz test).
"""
