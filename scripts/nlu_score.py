"""Score `rasa test nlu` results per language: intent accuracy and macro-F1.

The language of an example is the test file it came from (tests/nlu/zh.yml, en.yml),
not a guess. Exits 1 when a language is under --min-accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml


def test_languages(test_dir: Path) -> Dict[str, str]:
    """text -> language, from tests/nlu/<language>*.yml."""
    languages = {}
    for path in sorted(test_dir.glob("*.yml")):
        language = path.stem.split("_")[0]
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    languages[line[2:].strip()] = language
    return languages


def macro_f1(pairs: List[Tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def score(results_dir: Path, test_dir: Path) -> Dict[str, Dict[str, float]]:
    languages = test_languages(test_dir)
    pairs: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results_dir / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                language = languages.get(item["text"].strip(), "unknown")
                pairs[language].append((item["intent"], item["intent_prediction"]["name"]))
    return {
        language: {
            "examples": len(items),
            "accuracy": sum(g == p for g, p in items) / len(items),
            "macro_f1": macro_f1(items),
        }
        for language, items in sorted(pairs.items())
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("tests", type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.95)
    args = parser.parse_args()
    scores = score(args.results, args.tests)
    (args.results / "per_language.json").write_text(json.dumps(scores, indent=2))
    failed = False
    for language, s in scores.items():
        ok = s["accuracy"] >= args.min_accuracy
        failed |= not ok
        print(
            f"{language}: {s['examples']} examples, accuracy {s['accuracy']:.3f}, "
            f"macro-F1 {s['macro_f1']:.3f} {'OK' if ok else 'BELOW ' + str(args.min_accuracy)}"
        )
    if not scores:
        print("no NLU results found", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
