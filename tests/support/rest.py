"""The one REST client of the tests: a running Rasa server over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

TIMEOUT = 60


class RestClient:
    """The REST webhook and Rasa's HTTP API of one running Rasa server."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post_raw(self, path: str, body: bytes, content_type: str = "application/json") -> Tuple[int, bytes]:
        """One POST; (status, body) whatever the status."""
        request = urllib.request.Request(
            self.base + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

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
        with urllib.request.urlopen(f"{self.base}/conversations/{sender}/tracker", timeout=TIMEOUT) as response:
            return json.loads(response.read())

    def user_texts(self, sender: str) -> List[str]:
        """What reached the bot from this sender (the Rasa HTTP API's view)."""
        return [e.get("text") for e in self.tracker(sender)["events"] if e["event"] == "user"]

    def append_events(self, sender: str, events: List[Dict[str, Any]]) -> Any:
        return self.post_json(f"/conversations/{sender}/tracker/events", events)

    def trigger_intent(self, sender: str, name: str, output_channel: Optional[str] = None) -> Any:
        query = f"?output_channel={output_channel}" if output_channel else ""
        return self.post_json(f"/conversations/{sender}/trigger_intent{query}", {"name": name})
