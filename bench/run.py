"""`make bench`: OUR config beside RASA DEFAULT, trained on the same data, in one run.

For each config: `rasa train` wall time; start-to-ready time of action server + Rasa
server; Rasa server RSS; per-message latency through the REST webhook with one custom
action round trip per message (one conversation at a time); throughput and p99 with 20
conversations sending back to back; intent accuracy and macro-F1 per language on
tests/nlu. Prints a table and writes var/bench/latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List

from bot import settings
from scripts.nlu_score import score
from scripts.servers import Bot, free_ports

OUT = settings.ROOT / "var" / "bench"
CONFIGS = {"OUR": settings.ROOT / "config.yml", "RASA DEFAULT": settings.ROOT / "bench" / "default_config.yml"}
# Each of these runs a custom action (greeting, payment, invoice, returns, after-sales).
MESSAGES = [
    "你好",
    "hello",
    "可以用花呗付款吗",
    "can i pay with a credit card",
    "能开发票吗",
    "can i get an invoice",
    "我想退货",
    "i want a refund",
    "空调坏了怎么报修",
    "在吗",
]
TARGETS = {
    "train_s": 45,
    "ready_s": 20,
    "rss_mb": 900,
    "seq_p99_ms": 50,
    "conc_msgs_per_s": 60,
    "own_accuracy": 0.95,
    "real_accuracy": 0.90,
    "real_oos_caught": 0.80,
    "real_inscope_rejected": 0.05,
}


def rasa(*args: str) -> None:
    """The Rasa command line through the patched runtime customers get (bot.server)."""
    subprocess.run(
        [sys.executable, "-m", "bot.server", *args],
        cwd=settings.ROOT,
        env=settings.child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def train(config: Path, name: str) -> float:
    start = time.monotonic()
    rasa(
        "train",
        "--domain",
        "bot/domain.yml",
        "--data",
        "bot/data",
        "--config",
        str(config),
        "--out",
        str(OUT / "models"),
        "--fixed-model-name",
        name,
        "--force",
    )
    return time.monotonic() - start


def post(connection: http.client.HTTPConnection, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text})
    start = time.perf_counter()
    connection.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or not json.loads(payload):
        raise RuntimeError(f"bad reply {response.status}: {payload[:200]!r}")
    return elapsed


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def sequential(port: int, count: int) -> Dict[str, float]:
    """One conversation at a time, each as long as MESSAGES (a realistic chat), back to back."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    warm = f"bench-warm-{uuid.uuid4().hex[:8]}"
    for text in MESSAGES:
        post(connection, warm, text)
    times: List[float] = []
    while len(times) < count:
        sender = f"bench-s-{uuid.uuid4().hex[:8]}"
        times += [post(connection, sender, text) for text in MESSAGES]
    return {"seq_p50_ms": statistics.median(times) * 1000, "seq_p99_ms": percentile(times, 0.99) * 1000}


def concurrent(port: int, conversations: int, per_conversation: int) -> Dict[str, float]:
    times: List[float] = []
    errors: List[str] = []
    lock = threading.Lock()

    def conversation(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sender = f"bench-c{index}-{uuid.uuid4().hex[:6]}"
        for i in range(per_conversation):
            try:
                elapsed = post(connection, sender, MESSAGES[(index + i) % len(MESSAGES)])
            except Exception as error:  # counted, not hidden
                with lock:
                    errors.append(str(error))
                continue
            with lock:
                times.append(elapsed)

    threads = [threading.Thread(target=conversation, args=(i,)) for i in range(conversations)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        "conc_msgs_per_s": len(times) / wall,
        "conc_p99_ms": percentile(times, 0.99) * 1000,
        "conc_errors": len(errors),
    }


# The NLU test sets: our own sentences, and the real-language sets written by others
# (tests/nlu_real: dev is tuned on, test is held out).
NLU_SETS = {"own": "tests/nlu", "real": "tests/nlu_real/dev", "held": "tests/nlu_real/test"}


def accuracy(model: Path, name: str) -> Dict[str, float]:
    result = {}
    for key, folder in NLU_SETS.items():
        out = OUT / f"nlu-{name}-{key}"
        rasa(
            "test",
            "nlu",
            "--model",
            str(model),
            "--nlu",
            folder,
            "--domain",
            "bot/domain.yml",
            "--out",
            str(out),
            "--successes",
            "--no-plot",
        )
        scores = score(out, settings.ROOT / folder)
        for language in ("zh", "en"):
            language_scores = scores.get(language, {})
            for metric in ("accuracy", "macro_f1", "oos_caught", "inscope_rejected"):
                result[f"{key}_{metric}_{language}"] = language_scores.get(metric, 0.0)
    return result


def measure(label: str, config: Path, args: argparse.Namespace) -> Dict[str, float]:
    name = "our" if label == "OUR" else "default"
    print(f"[{label}] training ...", flush=True)
    result: Dict[str, float] = {"train_s": train(config, name)}
    model = OUT / "models" / f"{name}.tar.gz"
    rasa_port, actions_port = free_ports(2)
    bot = Bot(
        model=model,
        rasa_port=rasa_port,
        actions_port=actions_port,
        tracker_db=OUT / f"tracker-{name}.db",
        log_dir=OUT / "log",
        # The bench floods from one address on purpose: no rate limits (issue 12).
        extra_env={"RATE_LIMIT_PER_CLIENT": "0", "RATE_LIMIT_PER_CONVERSATION": "0"},
    )
    (OUT / f"tracker-{name}.db").unlink(missing_ok=True)
    print(f"[{label}] starting servers ...", flush=True)
    with bot.start(timeout=300):  # Bot.__exit__ stops both servers
        result["ready_s"] = bot.ready_seconds
        print(f"[{label}] sequential latency ...", flush=True)
        result.update(sequential(bot.rasa_port, args.sequential))
        print(f"[{label}] 20 concurrent conversations ...", flush=True)
        result.update(concurrent(bot.rasa_port, 20, args.per_conversation))
        result["rss_mb"] = bot.rss_mb()
    print(f"[{label}] NLU test sets ...", flush=True)
    result.update(accuracy(model, name))
    return result


ROWS = [
    ("train_s", "rasa train wall time (s)", "{:.1f}", "<= 45"),
    ("ready_s", "start to ready (s)", "{:.1f}", "<= 20"),
    ("rss_mb", "Rasa server RSS (MB)", "{:.0f}", "<= 900"),
    ("seq_p50_ms", "sequential p50 (ms)", "{:.1f}", ""),
    ("seq_p99_ms", "sequential p99 (ms)", "{:.1f}", "<= 50"),
    ("conc_msgs_per_s", "20 conversations: messages/s", "{:.1f}", ">= 60"),
    ("conc_p99_ms", "20 conversations: p99 (ms)", "{:.1f}", ""),
    ("conc_errors", "20 conversations: errors", "{:.0f}", "0"),
]
for _language in ("zh", "en"):
    ROWS += [
        (f"real_accuracy_{_language}", f"real dev {_language}: intent accuracy", "{:.3f}", ">= 0.90"),
        (f"real_macro_f1_{_language}", f"real dev {_language}: macro-F1", "{:.3f}", ""),
        (f"real_oos_caught_{_language}", f"real dev {_language}: out-of-scope caught", "{:.3f}", ">= 0.80"),
        (f"real_inscope_rejected_{_language}", f"real dev {_language}: in-scope rejected", "{:.3f}", "<= 0.05"),
    ]
for _language in ("zh", "en"):
    ROWS += [
        (f"held_accuracy_{_language}", f"real held-out {_language}: intent accuracy", "{:.3f}", ">= 0.90"),
        (f"held_oos_caught_{_language}", f"real held-out {_language}: out-of-scope caught", "{:.3f}", ">= 0.80"),
        (f"held_inscope_rejected_{_language}", f"real held-out {_language}: in-scope rejected", "{:.3f}", "<= 0.05"),
    ]
ROWS += [
    (f"own_accuracy_{_language}", f"own test set {_language}: intent accuracy", "{:.3f}", ">= 0.95")
    for _language in ("zh", "en")
]


def table(results: Dict[str, Dict[str, float]]) -> str:
    labels = list(results)
    lines = ["| metric | " + " | ".join(labels) + " | target (OUR) |", "|---|" + "---|" * len(labels) + "---|"]
    for key, title, fmt, target in ROWS:
        cells = [fmt.format(results[label][key]) if key in results[label] else "-" for label in labels]
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["OUR", "RASA DEFAULT"], help="measure one config")
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--per-conversation", type=int, default=20)
    args = parser.parse_args()
    shutil.rmtree(OUT / "models", ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    results = {label: measure(label, config, args) for label, config in CONFIGS.items() if args.only in (None, label)}
    report = table(results)
    print("\n" + report)
    (OUT / "latest.json").write_text(
        json.dumps(
            {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": results, "targets": TARGETS, "table": report},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {OUT / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
