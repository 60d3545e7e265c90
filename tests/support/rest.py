"""The one REST client of the tests: a running Rasa server over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

TIMEOUT = 60


class RestClient:
    """The REST webhook and Rasa's HTTP API of one running Rasa server. The API needs the
    server's token (`api_token`, Bot.api_token), sent as Rasa expects it: `?token=`."""

    def __init__(self, base: str, api_token: Optional[str] = None, headers: Optional[Dict[str, str]] = None) -> None:
        self.base = base
        self.api_token = api_token
        self.headers = dict(headers or {})

    @classmethod
    def of(cls, bot: Any, **headers: str) -> "RestClient":
        """The client of a running test bot (scripts.servers.Bot), with its API token."""
        return cls(bot.url, bot.api_token, headers)

    def api(self, path: str) -> str:
        """`path` of Rasa's HTTP API with the token."""
        if not self.api_token:
            return path
        return path + ("&" if "?" in path else "?") + urllib.parse.urlencode({"token": self.api_token})

    def request_raw(
        self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Dict[str, str], bytes]:
        """One request; (status, headers, body) whatever the status."""
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post_raw(self, path: str, body: bytes, content_type: str = "application/json") -> Tuple[int, bytes]:
        """One POST; (status, body) whatever the status."""
        status, _, raw = self.request_raw("POST", path, body, {"Content-Type": content_type})
        return status, raw

    def post_json(self, path: str, data: Any) -> Any:
        status, raw = self.post_raw(path, json.dumps(data).encode())
        assert status == 200, (path, status, raw[:300])
        return json.loads(raw)

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """A customer message on the REST channel; the bot's messages."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        return self.post_json("/webhooks/rest/webhook", body)

    def texts(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[str]:
        """The text of each message the bot sends back ("" for one without text)."""
        return [m.get("text", "") for m in self.send(sender, message, metadata)]

    def tracker(self, sender: str) -> Dict[str, Any]:
        status, _, raw = self.request_raw("GET", self.api(f"/conversations/{urllib.parse.quote(sender)}/tracker"))
        assert status == 200, (sender, status, raw[:300])
        return json.loads(raw)

    def user_texts(self, sender: str) -> List[str]:
        """What reached the bot from this sender (the Rasa HTTP API's view)."""
        return [e.get("text") for e in self.tracker(sender)["events"] if e["event"] == "user"]

    def append_events(self, sender: str, events: List[Dict[str, Any]]) -> Any:
        return self.post_json(self.api(f"/conversations/{urllib.parse.quote(sender)}/tracker/events"), events)

    def trigger_intent(self, sender: str, name: str, output_channel: Optional[str] = None) -> Any:
        query = f"?output_channel={output_channel}" if output_channel else ""
        path = self.api(f"/conversations/{urllib.parse.quote(sender)}/trigger_intent{query}")
        return self.post_json(path, {"name": name})
